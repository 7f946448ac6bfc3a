/**
 * B1 webhook ingest (and B4's peak RSS): GREEN-API incomingCall (offer, then the final status of
 * the same call) and incomingMessageReceived text payloads, every one distinct, POSTed with
 * autocannon at 16, 64 and 256 connections to
 *   - Switchboard (built, default durability: fsync before the ack), on SQLite and on PostgreSQL
 *     (a fresh database on the local server, BENCH_POSTGRES),
 *   - a bare node:http server that parses the JSON and answers 200 (the ceiling),
 *   - a plain Express handler inserting each request into SQLite (WAL, synchronous=FULL).
 * Each server runs in its own child process; autocannon runs here.
 *
 *   node bench/b1-webhook.mjs        # BENCH_DURATION=10 BENCH_CONNECTIONS=16,64,256 BENCH_TARGETS=switchboard,switchboard-pg,bare,express
 */
import autocannon from 'autocannon';
import {
  SCALE,
  cpuSecondsOf,
  envInt,
  fmtInt,
  greenApiGenerator,
  inspectDb,
  isMain,
  loadNow,
  log,
  mib,
  round,
  sampleMemory,
  saveResult,
  sleep,
  startBaseline,
  startSwitchboard,
} from './lib.mjs';

export const TARGETS = {
  switchboard: 'Switchboard (fsync before ack)',
  'switchboard-pg': 'Switchboard on PostgreSQL (COMMIT before ack)',
  bare: 'bare node:http + JSON.parse',
  express: 'Express + SQLite insert per request',
  fastify: 'Fastify, one route answering 200 (not in the default run)',
};

/** The comparison servers in bench/servers/, by target. */
const BASELINES = { bare: 'bare.mjs', express: 'express-sqlite.mjs', fastify: 'fastify-hello.mjs' };

function cannon({ url, path, headers, connections, duration, gen }) {
  return autocannon({
    url,
    connections,
    duration,
    pipelining: 1,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        headers,
        // A new body for every request: nothing dedupes.
        setupRequest: (req) => ({ ...req, body: JSON.stringify(gen.next()) }),
      },
    ],
  });
}

/** Commit counters from Switchboard's /metrics (group commit: transactions, events per transaction, time in commit). */
async function commitMetrics(url) {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const v = (name) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { commits: v('switchboard_commit_seconds_count'), commitSeconds: v('switchboard_commit_seconds_sum'), items: v('switchboard_commit_batch_items_sum') };
  } catch {
    return undefined;
  }
}

/** One target at one connection count, on a fresh server. */
export async function runOne(target, connections, { duration, warmup, nodeArgs = [], keepDb = false } = {}) {
  const sb = target === 'switchboard' || target === 'switchboard-pg';
  const server = sb ? await startSwitchboard({ nodeArgs, postgres: target === 'switchboard-pg' }) : await startBaseline(BASELINES[target]);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${server.ingestToken ?? 'x'}` };
  const path = server.ingestPath ?? '/ingest/wa';
  const gen = greenApiGenerator({ chats: 1000 });
  const mem = sampleMemory(server.pid);
  try {
    let sent2xx = 0;
    let non2xx = 0;
    if (warmup > 0) {
      const w = await cannon({ url: server.url, path, headers, connections, duration: warmup, gen });
      sent2xx += w['2xx'];
      non2xx += w.non2xx;
    }
    await sleep(200);
    const m0 = sb ? await commitMetrics(server.url) : undefined;
    const load0 = loadNow();
    const cpu0 = cpuSecondsOf(server.pid);
    const self0 = process.cpuUsage();
    const r = await cannon({ url: server.url, path, headers, connections, duration, gen });
    const serverCpu = (cpuSecondsOf(server.pid) - cpu0) / duration;
    const self = process.cpuUsage(self0);
    const loadAfter = loadNow();
    sent2xx += r['2xx'];
    non2xx += r.non2xx;
    const memory = mem.stop();
    const m1 = m0 ? await commitMetrics(server.url) : undefined;
    const commits =
      m0 && m1
        ? {
            perSec: round((m1.commits - m0.commits) / duration, 0),
            eventsPerCommit: round((m1.items - m0.items) / Math.max(m1.commits - m0.commits, 1), 1),
            meanCommitMs: round((1000 * (m1.commitSeconds - m0.commitSeconds)) / Math.max(m1.commits - m0.commits, 1), 2),
            // share of wall time the event loop spent inside commit (blocked: SQLite + fsync)
            busyPct: round((100 * (m1.commitSeconds - m0.commitSeconds)) / duration, 1),
          }
        : undefined;
    let stored;
    if (target === 'express') {
      const res = await fetch(`${server.url}/count`);
      stored = (await res.json()).rows;
    }
    if (target === 'switchboard-pg') stored = await server.storedEvents();
    await server.stop();
    let disk;
    if (target === 'switchboard') {
      disk = await inspectDb(server.db);
      stored = disk.events;
    }
    const out = {
      target,
      connections,
      duration,
      reqPerSec: r.requests.average,
      reqPerSecStddev: r.requests.stddev,
      latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
      requests: r.requests.total,
      '2xx': r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      // Every payload is one event; accepted requests, warm-up included, against rows stored.
      accepted2xxTotal: sent2xx,
      non2xxTotal: non2xx,
      stored,
      storedOk: stored === undefined ? undefined : stored >= sent2xx && stored <= sent2xx + connections * 2 + non2xx,
      commits,
      serverCpuCores: round(serverCpu, 2),
      loadgenCpuCores: round((self.user + self.system) / 1e6 / duration, 2),
      memory: { peakRssMiB: round(mib(memory.peakRss)), vmHwmMiB: round(mib(memory.hwm)), vmHwmBytes: memory.hwm },
      disk: disk && {
        events: disk.events,
        dbBytes: disk.dbBytes,
        walBytes: disk.walBytes,
        bytesPerEvent: round((disk.dbBytes + disk.walBytes) / Math.max(disk.events, 1), 0),
        avgBodyBytes: round(disk.avgBody, 0),
        objects: disk.objects,
      },
      load: { before: load0, after: loadAfter },
    };
    log(
      `B1 ${target.padEnd(11)} c=${String(connections).padStart(3)}  ${fmtInt(out.reqPerSec).padStart(7)} req/s  p50 ${out.latency.p50} ms  p99 ${out.latency.p99} ms  non2xx ${out.non2xx}  errors ${out.errors}` +
        `  stored ${stored ?? '-'} / 2xx ${sent2xx}${commits ? `  commits ${commits.perSec}/s × ${commits.eventsPerCommit} ev, ${commits.meanCommitMs} ms (${commits.busyPct}% of wall)` : ''}  server cpu ${out.serverCpuCores}  rss peak ${out.memory.vmHwmMiB} MiB  load ${loadAfter[0]}`,
    );
    return out;
  } finally {
    mem.stop();
    if (keepDb) await server.stop();
    else await server.cleanup();
  }
}

export async function runB1(opts = {}) {
  const duration = opts.duration ?? Math.max(3, Math.round(envInt('BENCH_DURATION', 10) * Math.min(SCALE, 1)));
  const warmup = opts.warmup ?? Math.max(1, Math.round(envInt('BENCH_WARMUP', 3) * Math.min(SCALE, 1)));
  const connections = opts.connections ?? (process.env.BENCH_CONNECTIONS ?? '16,64,256').split(',').map(Number);
  const targets = opts.targets ?? (process.env.BENCH_TARGETS ?? 'switchboard,switchboard-pg,bare,express').split(',');
  const runs = [];
  for (const c of connections) for (const t of targets) runs.push(await runOne(t, c, { duration, warmup }));
  const at = (t, c) => runs.find((r) => r.target === t && r.connections === c);
  const ratios = connections.map((c) => {
    const sb = at('switchboard', c);
    const bare = at('bare', c);
    const ex = at('express', c);
    const pg = at('switchboard-pg', c);
    return {
      connections: c,
      ofBare: sb && bare ? round(sb.reqPerSec / bare.reqPerSec, 3) : undefined,
      overExpress: sb && ex ? round(sb.reqPerSec / ex.reqPerSec, 2) : undefined,
      pgOfBare: pg && bare ? round(pg.reqPerSec / bare.reqPerSec, 3) : undefined,
      pgOfSqlite: pg && sb ? round(pg.reqPerSec / sb.reqPerSec, 3) : undefined,
    };
  });
  const sbRuns = runs.filter((r) => r.target === 'switchboard');
  const result = {
    duration,
    warmup,
    connections,
    runs,
    ratios,
    peakRssMiB: sbRuns.length ? Math.max(...sbRuns.map((r) => r.memory.vmHwmMiB)) : undefined,
    peakRssBytes: sbRuns.length ? Math.max(...sbRuns.map((r) => r.memory.vmHwmBytes)) : undefined,
  };
  saveResult('b1', result);
  return result;
}

if (isMain(import.meta.url)) {
  const r = await runB1();
  for (const x of r.ratios) log(`B1 c=${x.connections}: Switchboard = ${x.ofBare} × bare node:http, ${x.overExpress} × Express+SQLite; on PostgreSQL ${x.pgOfBare} × bare, ${x.pgOfSqlite} × on SQLite`);
  log(`B4 peak RSS of Switchboard during B1: ${r.peakRssMiB} MiB`);
}
