/**
 * B3 live latency: 100 SSE subscribers on /v1/stream (a forked child), GREEN-API text messages
 * POSTed one per request at a paced 2,000 events/s; per event and subscriber, the time from the
 * start of its ingest request to its arrival on the stream. The send time rides in the message
 * text (`bench-ts:<hrtime ns>`) and is read back from the event's data.
 *
 *   node bench/b3-live.mjs    # BENCH_RATE=2000 BENCH_SUBSCRIBERS=100 BENCH_DURATION=10
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'undici';
import { BENCH_DIR, SCALE, envInt, fmtInt, greenApiGenerator, isMain, liveChildren, loadNow, log, percentile, round, sampleMemory, saveResult, sleep, startSwitchboard, cpuSecondsOf, mib } from './lib.mjs';

/**
 * Sends `rate` requests/s for `seconds` (open loop: the schedule does not wait for answers), each
 * with a fresh payload. Waits at most `drainMs` after the last send for the answers; a server
 * that cannot keep up is reported, not waited for.
 */
async function pace(pool, server, gen, rate, seconds, phase, stats, drainMs = 30_000) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${server.ingestToken}` };
  const total = Math.round(rate * seconds);
  const t0 = process.hrtime.bigint();
  let sent = 0;
  const inflight = new Set();
  while (sent < total) {
    const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - t0) / 1e9) * rate) + 1);
    while (sent < due) {
      sent++;
      const start = process.hrtime.bigint();
      const body = JSON.stringify(gen.message(`${'bench-ts:'}${start}:${phase}`));
      const p = pool
        .request({ path: server.ingestPath, method: 'POST', headers, body })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode === 200) stats.ok++;
          else stats.bad++;
          stats.ingestMs.push(Number(process.hrtime.bigint() - start) / 1e6);
        })
        .catch(() => stats.errors++);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await sleep(1);
  }
  const sendSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const drained = await Promise.race([Promise.all(inflight).then(() => true), sleep(drainMs).then(() => false)]);
  return { sent, sendSeconds, seconds: Number(process.hrtime.bigint() - t0) / 1e9, unanswered: drained ? 0 : inflight.size };
}

export async function runB3(opts = {}) {
  const rate = opts.rate ?? envInt('BENCH_RATE', 2000);
  const subscribers = opts.subscribers ?? envInt('BENCH_SUBSCRIBERS', 100);
  const duration = opts.duration ?? Math.max(3, Math.round(envInt('BENCH_DURATION', 10) * Math.min(SCALE, 1)));
  const warmup = opts.warmup ?? 2;
  const server = await startSwitchboard();
  const mem = sampleMemory(server.pid);
  const subs = fork(join(BENCH_DIR, 'servers', 'sse-subscribers.mjs'), [], { env: { ...process.env, URL: server.url, TOKEN: server.apiToken, SUBSCRIBERS: String(subscribers) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  liveChildren.add(subs);
  const messages = [];
  let waiter;
  subs.on('message', (m) => {
    if (m.error) log(`B3 ${m.error}`);
    messages.push(m);
    waiter?.();
  });
  const nextMessage = async (pred) => {
    for (;;) {
      const m = messages.find(pred);
      if (m) return m;
      await new Promise((r) => (waiter = r));
    }
  };
  const pool = new Pool(server.url, { connections: 64, pipelining: 1 });
  try {
    await nextMessage((m) => m.ready);
    const gen = greenApiGenerator({ chats: 1000 });
    const warm = { ok: 0, bad: 0, errors: 0, ingestMs: [] };
    await pace(pool, server, gen, rate, warmup, 'w', warm);
    await sleep(500);
    if (warm.ok < 0.9 * rate * warmup) log(`B3 warm-up: only ${warm.ok} of ${rate * warmup} requests answered 200 in time — the server cannot keep up`);
    const stats = { ok: 0, bad: 0, errors: 0, ingestMs: [] };
    const load0 = loadNow();
    const cpu0 = cpuSecondsOf(server.pid);
    const sent = await pace(pool, server, gen, rate, duration, 'm', stats);
    const serverCpu = (cpuSecondsOf(server.pid) - cpu0) / sent.seconds;
    subs.send({ expect: stats.ok });
    const r = await nextMessage((m) => m.samples !== undefined);
    const memory = mem.stop();
    stats.ingestMs.sort((a, b) => a - b);
    const out = {
      rate,
      subscribers,
      duration,
      sent: sent.sent,
      sendSeconds: round(sent.sendSeconds, 2),
      // answered requests per second of the run, drain included: below `rate`, the server fell behind
      achievedRate: round(stats.ok / sent.seconds, 0),
      unanswered: sent.unanswered,
      overloaded: stats.ok < 0.98 * sent.sent || sent.seconds > sent.sendSeconds + 2,
      ingest: { ok: stats.ok, non200: stats.bad, errors: stats.errors, p50: round(percentile(stats.ingestMs, 50), 2), p99: round(percentile(stats.ingestMs, 99), 2) },
      delivery: { samples: r.samples, expected: r.expected, minPerSubscriber: r.minReceived, p50: round(r.p50, 2), p90: round(r.p90, 2), p99: round(r.p99, 2), p999: round(r.p999, 2), max: round(r.max, 2), mean: round(r.mean, 2) },
      serverCpuCores: round(serverCpu, 2),
      peakRssMiB: round(mib(memory.hwm)),
      load: { before: load0, after: loadNow() },
    };
    log(
      `B3 ${fmtInt(out.achievedRate)} events/s × ${subscribers} subscribers: delivery p50 ${out.delivery.p50} ms, p99 ${out.delivery.p99} ms, max ${out.delivery.max} ms ` +
        `(${fmtInt(r.samples)}/${fmtInt(r.expected)} deliveries); ingest ack p50 ${out.ingest.p50} ms p99 ${out.ingest.p99} ms; server cpu ${out.serverCpuCores}; rss ${out.peakRssMiB} MiB`,
    );
    saveResult('b3', out);
    return out;
  } finally {
    mem.stop();
    await pool.destroy().catch(() => undefined);
    subs.kill('SIGKILL');
    await server.cleanup();
  }
}

if (isMain(import.meta.url)) await runB3();
