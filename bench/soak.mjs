/**
 * Soak: the built server under a steady mixed-platform load for a long time (30 min by default),
 * with a few SSE subscribers on /v1/stream, sampled every few seconds: RSS (/proc/<pid>/status
 * VmRSS), open file descriptors (/proc/<pid>/fd), event-loop delay (the p99 of prom-client's
 * `switchboard_nodejs_eventloop_lag_p99_seconds` on /metrics, which covers the time since the
 * previous scrape), acked rate, errors. After the warm-up the verdict says whether RSS, fds and
 * the loop delay stayed flat within 10% (bench/README.md "Soak" says how and why).
 *
 *   node bench/soak.mjs                     # 30 min, 300 payloads/s, 4 subscribers
 *   SOAK_SECONDS=45 node bench/soak.mjs     # short (CI): the same, 45 s
 *
 * Load: one native payload per POST, paced open loop (the schedule does not wait for answers)
 * in a weighted rotation of four connectors: GREEN-API webhooks (the bench generator: calls
 * offered and finished, text messages, over SOAK_CHATS chats), call-widget mobile SDK codes,
 * edna Threads pushes and 1С-Коннект relay XML (the scenarios of
 * src/connectors/<platform>/scenarios.ts, from the build), each scenario run with its own ids.
 *
 * Knobs: SOAK_MINUTES (30) or SOAK_SECONDS, SOAK_RATE (300 payloads/s), SOAK_SUBSCRIBERS (4),
 * SOAK_WARMUP_SECONDS (20% of the run, at least 60 s in runs of 5 min or more),
 * SOAK_SAMPLE_SECONDS (run / 100, within 1..5), SOAK_CONNECTIONS (16), SOAK_CHATS (10,000), SOAK_MIX
 * (greenapi:4,widget:2,threads:2,connect1c:2), SOAK_TOLERANCE (10, %), SOAK_MAX_INFLIGHT
 * (10 s of the rate), SOAK_NODE_ARGS (node options of the server, e.g. `--heapsnapshot-signal=SIGUSR2`),
 * and the common BENCH_DURABILITY, BENCH_ROOT, BENCH_TMP, BENCH_KEEP.
 */
import { fork } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Pool } from 'undici';
import { BENCH_DIR, ROOT, cpuSecondsOf, envInt, fdCountOf, fdKindsOf, fmtInt, greenApiGenerator, isMain, liveChildren, loadNow, log, machine, memoryOf, mib, percentile, round, saveResult, sleep, startSwitchboard } from './lib.mjs';

const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);

// ─── payloads ───────────────────────────────────────────────────────────────────────────────

export const CONNECTORS = [
  { id: 'wa', platform: 'greenapi' },
  { id: 'widget', platform: 'widget' },
  { id: 'threads', platform: 'threads' },
  { id: 'office', platform: 'connect1c' },
];
const PLATFORM_CONNECTOR = Object.fromEntries(CONNECTORS.map((c) => [c.platform, c.id]));

/** `greenapi:4,widget:2,…` → a slot sequence where each platform's share is its weight (smooth weighted round robin). */
export function mixSlots(spec) {
  const weights = spec.split(',').map((part) => {
    const [name, w] = part.split(':').map((s) => s.trim());
    if (!PLATFORM_CONNECTOR[name]) throw new Error(`SOAK_MIX: unknown platform "${name}"; known: ${Object.keys(PLATFORM_CONNECTOR).join(', ')}`);
    const n = Number(w ?? 1);
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`SOAK_MIX: weight of ${name}: expected a whole number, found ${w}`);
    return [name, n];
  }).filter(([, n]) => n > 0);
  const total = weights.reduce((a, [, n]) => a + n, 0);
  if (total === 0) throw new Error('SOAK_MIX: every weight is 0');
  const current = Object.fromEntries(weights.map(([name]) => [name, 0]));
  const slots = [];
  for (let i = 0; i < total; i++) {
    for (const [name, n] of weights) current[name] += n;
    const best = weights.reduce((a, [name]) => (current[name] > current[a] ? name : a), weights[0][0]);
    current[best] -= total;
    slots.push(best);
  }
  return slots;
}

/** Hands out the payloads of successive scenario runs, one at a time. */
function scenarioQueue(makeRun) {
  let queue = [];
  let run = 0;
  return () => {
    while (queue.length === 0) queue = makeRun(run++);
    return queue.shift();
  };
}

/**
 * The payload sources, one per platform: `next()` → `{ connector, contentType, body, refused }`
 * (`refused`: a payload the server must answer 400 and quarantine).
 */
export async function payloadSources({ chats }) {
  const { WIDGET_SCENARIOS } = await dist('connectors/widget/scenarios.js');
  const { THREADS_SCENARIOS } = await dist('connectors/threads/scenarios.js');
  const c1 = await dist('connectors/connect1c/scenarios.js');
  const json = (connector, payload, refused = false) => ({ connector, contentType: 'application/json', body: JSON.stringify(payload), refused });

  const ga = greenApiGenerator({ chats });

  // Widget: mobile SDK codes; answered calls most often. `now` (ms) makes the call id: one per run.
  const widgetRuns = ['answered-call', 'missed-call', 'answered-call', 'cancelled-call', 'answered-call', 'redirected-call'];
  let widgetLast = 0;
  const widget = scenarioQueue((run) => {
    widgetLast = Math.max(Date.now(), widgetLast + 1);
    return WIDGET_SCENARIOS[widgetRuns[run % widgetRuns.length]].mobile({ now: widgetLast }).map((m) => json('widget', m));
  });

  // Threads: the thread id and message ids come from `now` in whole seconds, so every run takes
  // its own second, counting back from the start (a clock running forward would stamp the future).
  // `malformed` (two pushes the server must refuse) keeps the quarantine path in the load;
  // `schedule` is left out: every SCHEDULE push lands on the one conversation "unknown-thread"
  // (README "Soak").
  const threadsRuns = ['handover', 'survey', 'handover', 'close-request', 'handover', 'malformed'];
  const threadsT0 = Math.floor(Date.now() / 1000) * 1000;
  const threads = scenarioQueue((run) => {
    const name = threadsRuns[run % threadsRuns.length];
    return THREADS_SCENARIOS[name].pushes({ now: threadsT0 - run * 1000 }).map((p) => json('threads', p, name === 'malformed'));
  });

  // 1С-Коннект: relay XML, one <Event> per POST. The scenarios' actors (the line's user, the
  // colleague, the personal contact, the group chat and its member) are replaced per run by ids
  // from pools of `chats`, so that no conversation or operator collects the whole run's events.
  const c1Runs = ['answered-call', 'chat-messages', 'treatment', 'missed-call', 'agent-status', 'chat-messages', 'answered-call', 'remote-session', 'other-objects'];
  const actors = [
    [c1.SCENARIO_LINE.userId, 'user'],
    [c1.SCENARIO_COLLEAGUE.id, 'colleague'],
    [c1.SCENARIO_PERSONAL_CONTACT.id, 'contact'],
    [c1.SCENARIO_GROUP.roomId, 'room'],
    [c1.SCENARIO_GROUP.memberId, 'member'],
  ];
  let c1Last = 0;
  const connect1c = scenarioQueue((run) => {
    c1Last = Math.max(Date.now(), c1Last + 1);
    const j = Math.floor(run / c1Runs.length) % chats;
    const swaps = actors.map(([id, role]) => [id, c1.scenarioUuid(`soak|${role}|${j}`)]);
    return c1.scenarioEvents(c1Runs[run % c1Runs.length], { now: c1Last }).map((xml) => ({
      connector: 'office',
      contentType: 'application/xml',
      body: swaps.reduce((s, [from, to]) => s.replaceAll(from, to), xml),
      refused: false,
    }));
  });

  return {
    greenapi: () => json('wa', ga.next()),
    widget,
    threads,
    connect1c,
  };
}

// ─── trends ─────────────────────────────────────────────────────────────────────────────────

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The flatness of one series over the window (`pts` = [[t seconds, value]]):
 *  - trend: the Theil–Sen line (median of the slopes between every pair of samples, intercept the
 *    median of y − slope·t), its values at the window's start and end and the change between them
 *    as a share of the start value — the verdict;
 *  - thirds: the means of the first and last thirds of the samples and their change;
 *  - lsq: the change of a least-squares line over the window, for comparison.
 */
export function flatness(pts, tolerance) {
  const n = pts.length;
  if (n < 3) return { samples: n, flat: undefined };
  const t0 = pts[0][0];
  const t1 = pts[n - 1][0];
  const slopes = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (pts[j][0] !== pts[i][0]) slopes.push((pts[j][1] - pts[i][1]) / (pts[j][0] - pts[i][0]));
  const slope = median(slopes);
  const intercept = median(pts.map(([t, y]) => y - slope * (t - t0)));
  const start = intercept;
  const end = intercept + slope * (t1 - t0);
  const change = start !== 0 ? (end - start) / Math.abs(start) : end === 0 ? 0 : Infinity;
  const third = Math.max(1, Math.floor(n / 3));
  const first = mean(pts.slice(0, third).map((p) => p[1]));
  const last = mean(pts.slice(n - third).map((p) => p[1]));
  const tm = mean(pts.map((p) => p[0]));
  const ym = mean(pts.map((p) => p[1]));
  const sxx = pts.reduce((a, [t]) => a + (t - tm) ** 2, 0);
  const lsqSlope = pts.reduce((a, [t, y]) => a + (t - tm) * (y - ym), 0) / sxx;
  const lsqStart = ym + lsqSlope * (t0 - tm);
  return {
    samples: n,
    seconds: t1 - t0,
    trend: { start, end, change, perHour: slope * 3600 },
    thirds: { first, last, change: first !== 0 ? (last - first) / Math.abs(first) : last === 0 ? 0 : Infinity },
    lsq: { change: lsqStart !== 0 ? (lsqSlope * (t1 - t0)) / Math.abs(lsqStart) : Infinity },
    min: Math.min(...pts.map((p) => p[1])),
    max: Math.max(...pts.map((p) => p[1])),
    direction: Math.abs(change) <= tolerance ? 'flat' : change > 0 ? 'grows' : 'falls',
    flat: Math.abs(change) <= tolerance,
  };
}

// ─── metrics ────────────────────────────────────────────────────────────────────────────────

/** The unlabelled samples and the sums of labelled ones of a Prometheus text exposition. */
function parseProm(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    if (m[2]) out[`${m[1]}{}`] = (out[`${m[1]}{}`] ?? 0) + v;
    else out[m[1]] = v;
    if (m[2]) out[`${m[1]}${m[2]}`] = v;
  }
  return out;
}

const LAG = 'switchboard_nodejs_eventloop_lag';

// ─── the run ────────────────────────────────────────────────────────────────────────────────

export async function runSoak(opts = {}) {
  const seconds = opts.seconds ?? (process.env.SOAK_SECONDS ? envInt('SOAK_SECONDS', 1800) : envInt('SOAK_MINUTES', 30) * 60);
  const rate = opts.rate ?? envInt('SOAK_RATE', 300);
  const subscribers = opts.subscribers ?? envInt('SOAK_SUBSCRIBERS', 4);
  const chats = envInt('SOAK_CHATS', 10_000);
  const tolerance = envInt('SOAK_TOLERANCE', 10) / 100;
  const warmup = envInt('SOAK_WARMUP_SECONDS', Math.max(0.2 * seconds, seconds >= 300 ? 60 : 0));
  const sampleSeconds = envInt('SOAK_SAMPLE_SECONDS', Math.min(5, Math.max(1, Math.round(seconds / 100))));
  const maxInflight = envInt('SOAK_MAX_INFLIGHT', rate * 10);
  const mixSpec = process.env.SOAK_MIX ?? 'greenapi:4,widget:2,threads:2,connect1c:2';
  if (warmup >= seconds) throw new Error(`SOAK_WARMUP_SECONDS (${warmup}) must be below the run (${seconds} s)`);
  const slots = mixSlots(mixSpec);
  const sources = await payloadSources({ chats });

  const m0 = machine();
  log(`soak: ${seconds} s at ${rate} payloads/s (${mixSpec}), ${subscribers} SSE subscribers, warm-up ${round(warmup, 0)} s, a sample every ${sampleSeconds} s; ${m0.cores} cores, load ${m0.loadavg.join(' ')}`);

  const nodeArgs = (process.env.SOAK_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const server = await startSwitchboard({ connectors: CONNECTORS, nodeArgs });
  // Process warnings of the server (e.g. MaxListenersExceededWarning), counted over the whole run.
  const warnings = {};
  let stderrTail = '';
  server.child.stderr.on('data', (d) => {
    const lines = (stderrTail + d).split('\n');
    stderrTail = lines.pop() ?? '';
    for (const l of lines) {
      const w = /\((?:node:)?\d+\) (\w*Warning): (.*)$/.exec(l);
      if (w) warnings[`${w[1]}: ${w[2]}`] = (warnings[`${w[1]}: ${w[2]}`] ?? 0) + 1;
    }
  });
  const subs = fork(join(BENCH_DIR, 'servers', 'soak-subscribers.mjs'), [], { env: { ...process.env, URL: server.url, TOKEN: server.apiToken, SUBSCRIBERS: String(subscribers) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  liveChildren.add(subs);
  const subErrors = [];
  let subReady;
  const ready = new Promise((r) => (subReady = r));
  const sampleWaiters = new Map();
  subs.on('message', (m) => {
    if (m.ready) subReady();
    if (m.error) {
      subErrors.push(m.error);
      log(`soak: ${m.error}`);
    }
    if (m.sample !== undefined) sampleWaiters.get(m.sample)?.(m);
  });
  let sampleId = 0;
  const subSample = () =>
    new Promise((resolveSample) => {
      const id = ++sampleId;
      const timer = setTimeout(() => (sampleWaiters.delete(id), resolveSample(undefined)), 5000);
      sampleWaiters.set(id, (m) => {
        clearTimeout(timer);
        sampleWaiters.delete(id);
        resolveSample(m);
      });
      subs.send({ sample: id });
    });

  // Ingest over a fixed set of connections, taken in turn: a pool would leave most of them idle at
  // a rate it serves with a few, the server would close those after its keep-alive timeout, and
  // the server's fd count would follow the load generator instead of the server.
  const clients = Array.from({ length: envInt('SOAK_CONNECTIONS', 16) }, () => new Client(server.url, { pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 }));
  let nextClient = 0;
  // The sampler's own connections, so that its requests never wait behind queued ingest.
  const probe = new Pool(server.url, { connections: 2, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const apiHeaders = { authorization: `Bearer ${server.apiToken}` };
  const get = async (path, headers = {}) => {
    const t = process.hrtime.bigint();
    const res = await probe.request({ path, method: 'GET', headers });
    const text = await res.body.text();
    return { status: res.statusCode, text, ms: Number(process.hrtime.bigint() - t) / 1e6 };
  };

  // Counters: totals and the current sample interval.
  const tot = { offered: 0, acked: 0, events: 0, duplicates: 0, refusedAsExpected: 0, errors: 0, shed: 0 };
  const errorKinds = {};
  const perPlatform = Object.fromEntries(Object.keys(PLATFORM_CONNECTOR).map((p) => [p, { offered: 0, acked: 0 }]));
  let interval = { acked: 0, offered: 0, errors: 0, ackMs: [] };
  const inflight = new Set();
  const noteError = (kind) => {
    tot.errors++;
    interval.errors++;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    if (errorKinds[kind] <= 3) log(`soak: error ${kind}`);
  };

  function send(platform) {
    const p = sources[platform]();
    tot.offered++;
    interval.offered++;
    perPlatform[platform].offered++;
    if (inflight.size >= maxInflight) {
      tot.shed++;
      return;
    }
    const start = process.hrtime.bigint();
    const req = clients[nextClient++ % clients.length]
      .request({ path: `/ingest/${p.connector}`, method: 'POST', headers: { 'content-type': p.contentType, authorization: `Bearer ${server.tokens[p.connector]}` }, body: p.body })
      .then(async (res) => {
        const text = await res.body.text();
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (p.refused) {
          if (res.statusCode === 400) tot.refusedAsExpected++;
          else noteError(`${platform} refused payload answered ${res.statusCode}`);
          return;
        }
        if (res.statusCode !== 200) return noteError(`${platform} HTTP ${res.statusCode}${res.statusCode === 503 ? ' (overload)' : ''}`);
        const r = JSON.parse(text);
        tot.acked++;
        interval.acked++;
        perPlatform[platform].acked++;
        tot.events += r.events ?? 0;
        tot.duplicates += r.duplicates ?? 0;
        interval.ackMs.push(ms);
      })
      .catch((err) => noteError(`${platform} ${err.code ?? err.name}`));
    inflight.add(req);
    void req.finally(() => inflight.delete(req));
  }

  const samples = [];
  const fdKinds = {};
  let cpuPrev = cpuSecondsOf(server.pid);
  let promPrev = {};
  let tPrev = 0;
  let subPrev;
  const fileMiB = (p) => {
    try {
      return mib(statSync(p).size);
    } catch {
      return 0;
    }
  };

  async function takeSample(t) {
    const mem = memoryOf(server.pid);
    const fds = fdCountOf(server.pid);
    let metrics = {};
    let metricsMs = NaN;
    let healthzMs = NaN;
    try {
      const r = await get('/metrics');
      metrics = parseProm(r.text);
      metricsMs = r.ms;
      healthzMs = (await get('/healthz')).ms;
    } catch (err) {
      noteError(`sampler ${err.code ?? err.message}`);
    }
    const sub = await subSample();
    const cpu = cpuSecondsOf(server.pid);
    const dt = t - tPrev;
    const delta = (k) => (metrics[k] ?? NaN) - (promPrev[k] ?? 0);
    const commits = delta('switchboard_commit_seconds_count');
    interval.ackMs.sort((a, b) => a - b);
    const s = {
      t: round(t, 1),
      rssMiB: mem ? round(mib(mem.rss), 1) : undefined,
      fds,
      loopP99Ms: round(1000 * (metrics[`${LAG}_p99_seconds`] ?? NaN), 2),
      loopP50Ms: round(1000 * (metrics[`${LAG}_p50_seconds`] ?? NaN), 2),
      loopMeanMs: round(1000 * (metrics[`${LAG}_mean_seconds`] ?? NaN), 2),
      loopMaxMs: round(1000 * (metrics[`${LAG}_max_seconds`] ?? NaN), 1),
      heapUsedMiB: round(mib(metrics.switchboard_nodejs_heap_size_used_bytes ?? NaN), 1),
      heapTotalMiB: round(mib(metrics.switchboard_nodejs_heap_size_total_bytes ?? NaN), 1),
      externalMiB: round(mib(metrics.switchboard_nodejs_external_memory_bytes ?? NaN), 1),
      handles: metrics.switchboard_nodejs_active_handles_total,
      streams: metrics.switchboard_stream_clients,
      offeredPerSec: round(interval.offered / dt, 1),
      ackedPerSec: round(interval.acked / dt, 1),
      ackP50Ms: round(percentile(interval.ackMs, 50), 2),
      ackP99Ms: round(percentile(interval.ackMs, 99), 2),
      errors: interval.errors,
      inflight: inflight.size,
      deliveredPerSec: sub && subPrev ? round((Math.min(...sub.received) - Math.min(...subPrev.received)) / dt, 1) : undefined,
      serverCpu: cpu !== undefined && cpuPrev !== undefined ? round((cpu - cpuPrev) / dt, 2) : undefined,
      gcShare: round(delta('switchboard_nodejs_gc_duration_seconds_sum{}') / dt, 3),
      commitsPerSec: round(commits / dt, 1),
      commitMeanMs: commits > 0 ? round((1000 * delta('switchboard_commit_seconds_sum')) / commits, 2) : undefined,
      metricsMs: round(metricsMs, 2),
      healthzMs: round(healthzMs, 2),
      dbMiB: round(fileMiB(server.db), 1),
      walMiB: round(fileMiB(`${server.db}-wal`), 1),
      load1: loadNow()[0],
    };
    samples.push(s);
    cpuPrev = cpu;
    if (metrics.switchboard_commit_seconds_count !== undefined) promPrev = metrics;
    tPrev = t;
    if (sub) subPrev = sub;
    interval = { acked: 0, offered: 0, errors: 0, ackMs: [] };
    return s;
  }

  const pct = (x) => `${x >= 0 ? '+' : ''}${round(100 * x, 1)}%`;
  const progressEvery = seconds >= 600 ? 60 : 10;
  let stopSampling = false;
  let t0;
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const load = [];

  try {
    await ready;
    await sleep(200);
    fdKinds.idle = fdKindsOf(server.pid);
    t0 = process.hrtime.bigint();
    await takeSample(0.001); // resets the loop-delay histogram and the interval counters
    samples.length = 0;
    tPrev = 0;

    const sampler = (async () => {
      let lastProgress = 0;
      for (let k = 1; ; k++) {
        const at = k * sampleSeconds;
        const wait = at - elapsed();
        if (wait > 0) await sleep(wait * 1000);
        if (stopSampling) return;
        const s = await takeSample(at);
        load.push(s.load1);
        if (fdKinds.windowStart === undefined && at >= warmup) fdKinds.windowStart = fdKindsOf(server.pid);
        if (at - lastProgress >= progressEvery || at >= seconds) {
          lastProgress = at;
          log(`soak ${String(Math.round(at)).padStart(5)} s: rss ${s.rssMiB} MiB, heap ${s.heapUsedMiB} MiB, fds ${s.fds}, loop p99 ${s.loopP99Ms} ms, acked ${s.ackedPerSec}/s, ack p99 ${s.ackP99Ms} ms, server cpu ${s.serverCpu}, errors ${tot.errors}, wal ${s.walMiB} MiB, load ${s.load1}`);
        }
      }
    })();

    // The paced open loop.
    const total = Math.round(rate * seconds);
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(elapsed() * rate) + 1);
      while (sent < due) send(slots[sent++ % slots.length]);
      await sleep(1);
    }
    const sendSeconds = elapsed();
    const drained = await Promise.race([Promise.all(inflight).then(() => true), sleep(30_000).then(() => false)]);
    stopSampling = true;
    await sampler;
    const runSeconds = elapsed();
    fdKinds.end = fdKindsOf(server.pid);

    // The subscribers should hold every stored event.
    const connectors = JSON.parse((await get('/v1/connectors', apiHeaders)).text).connectors;
    const stored = connectors.reduce((a, c) => a + c.events, 0);
    const quarantined = connectors.reduce((a, c) => a + c.quarantined, 0);
    let sub = await subSample();
    const waitUntil = Date.now() + 30_000;
    while (sub && Math.min(...sub.received) < stored && Date.now() < waitUntil) {
      await sleep(250);
      sub = await subSample();
    }
    const endMem = memoryOf(server.pid);
    const dbMiB = fileMiB(server.db);
    const walMiB = fileMiB(`${server.db}-wal`);
    subs.send({ stop: true });
    const stopT = Date.now();
    const exit = await server.stop();
    const shutdownMs = Date.now() - stopT;

    // The verdict, over the samples after the warm-up.
    const win = samples.filter((s) => s.t >= warmup);
    const series = (key) => win.filter((s) => Number.isFinite(s[key])).map((s) => [s.t, s[key]]);
    const verdict = {
      method: 'Theil–Sen trend over the window: change from its start to its end, as a share of its start value',
      tolerance,
      rss: flatness(series('rssMiB'), tolerance),
      fds: flatness(series('fds'), tolerance),
      loopP99: flatness(series('loopP99Ms'), tolerance),
    };
    // Not part of the verdict: what helps explain it.
    const extra = Object.fromEntries(['heapUsedMiB', 'externalMiB', 'handles', 'loopMeanMs', 'ackP99Ms', 'healthzMs', 'serverCpu', 'gcShare', 'commitMeanMs', 'walMiB'].map((k) => [k, flatness(series(k), tolerance)]));
    verdict.flat = verdict.rss.flat && verdict.fds.flat && verdict.loopP99.flat;

    const windowAcked = win.reduce((a, s) => a + s.ackedPerSec, 0) / Math.max(1, win.length);
    const env = Object.entries(process.env).filter(([k]) => (k.startsWith('SOAK_') || k.startsWith('BENCH_')) && k !== 'BENCH_ROOT').map(([k, val]) => `${k}=${val} `).join('');
    const out = {
      command: opts.command ?? `${env}node bench/soak.mjs`,
      seconds,
      rate,
      subscribers,
      connections: clients.length,
      mix: mixSpec,
      chats,
      warmupSeconds: round(warmup, 1),
      sampleSeconds,
      durability: process.env.BENCH_DURABILITY ?? 'full',
      machine: m0,
      load: { start: m0.loadavg, end: loadNow(), mean1min: round(mean(load), 2), max1min: round(Math.max(...load), 2), min1min: round(Math.min(...load), 2) },
      sendSeconds: round(sendSeconds, 1),
      runSeconds: round(runSeconds, 1),
      unanswered: drained ? 0 : inflight.size,
      serverNodeArgs: nodeArgs,
      totals: { ...tot, stored, quarantined, achievedRate: round(tot.acked / sendSeconds, 1), windowAckedPerSec: round(windowAcked, 1) },
      // The server fell behind the schedule: payloads shed at the in-flight bound, or fewer acks than offers.
      overloaded: tot.shed > 0 || tot.acked + tot.refusedAsExpected < 0.98 * tot.offered,
      perPlatform,
      errorKinds,
      subscribersResult: {
        expected: stored,
        received: sub?.received,
        reconnects: sub?.reconnects,
        outOfOrder: sub?.outOfOrder,
        mib: sub ? round(mib(sub.bytes), 1) : undefined,
        complete: sub ? sub.received.every((n) => n === stored) : false,
        errors: subErrors.slice(0, 10),
      },
      end: { rssMiB: endMem ? round(mib(endMem.rss), 1) : undefined, peakRssMiB: endMem ? round(mib(endMem.hwm), 1) : undefined, dbMiB: round(dbMiB, 1), walMiB: round(walMiB, 1), bytesPerEvent: stored ? Math.round(((dbMiB + walMiB) * 1048576) / stored) : undefined },
      shutdown: { ms: shutdownMs, exit },
      serverWarnings: warnings,
      serverStderr: server.stderr().split('\n').filter(Boolean).slice(-20),
      fdKinds,
      verdict,
      extra,
      samples,
    };
    const v = verdict;
    const line = (name, f, unit) =>
      `${name}: ${round(f.thirds.first, 2)} → ${round(f.thirds.last, 2)} ${unit} (thirds ${pct(f.thirds.change)}), trend ${round(f.trend.start, 2)} → ${round(f.trend.end, 2)} ${unit} = ${pct(f.trend.change)} ${f.flat ? 'flat' : `NOT FLAT (${f.direction})`}`;
    log(`soak: ${fmtInt(tot.offered)} payloads offered, ${fmtInt(tot.acked)} acked (${out.totals.achievedRate}/s), ${tot.refusedAsExpected} refused as expected, ${tot.errors} errors, ${tot.shed} shed, ${tot.duplicates} duplicates; ${fmtInt(stored)} events stored, ${quarantined} quarantined`);
    for (const [w, n] of Object.entries(warnings)) log(`soak: server warning ×${n}: ${w}`);
    log(`soak: subscribers received ${sub?.received?.map(fmtInt).join(', ')} of ${fmtInt(stored)} (${sub?.reconnects ?? '?'} reconnects); load 1-min mean ${out.load.mean1min}, max ${out.load.max1min}`);
    if (v.rss.samples >= 3) {
      log(`soak: window ${round(warmup, 0)}–${round(runSeconds, 0)} s, ${v.rss.samples} samples`);
      log(`soak: ${line('RSS', v.rss, 'MiB')}`);
      log(`soak: ${line('fds', v.fds, '')}`);
      log(`soak: ${line('loop delay p99', v.loopP99, 'ms')}`);
    }
    if (out.overloaded) log(`soak: the server fell behind the offered ${rate}/s (${fmtInt(tot.shed)} shed at ${fmtInt(maxInflight)} in flight, ${out.totals.achievedRate} acked/s): the figures are those of an overloaded server`);
    log(`soak: verdict ${v.flat === undefined ? 'none (too few samples after the warm-up)' : v.flat ? `FLAT within ${round(100 * tolerance, 0)}%` : `NOT FLAT (tolerance ${round(100 * tolerance, 0)}%)`}`);
    log(`soak: wrote ${saveResult('soak', out)}`);
    return out;
  } finally {
    stopSampling = true;
    await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
    await probe.destroy().catch(() => undefined);
    subs.kill('SIGKILL');
    await server.cleanup();
  }
}

if (isMain(import.meta.url)) await runSoak();
