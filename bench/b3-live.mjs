/**
 * B3 live latency: 100 SSE subscribers on /v1/stream (a forked child), GREEN-API text messages
 * POSTed one per request at a paced 2,000 events/s; per event and subscriber, the time from the
 * start of its ingest request to its arrival on the stream. The send time rides in the message
 * text (`bench-ts:<hrtime ns>`) and is read back from the event's data.
 *
 * The live run (issue 15) is the same measurement twice at 1,000 events/s, side by side: once
 * without subscribers (the baseline of the ingest ack latency; nothing is forked, no delivery is
 * measured) and once with 50. Each run also buckets the 200 answers by the second of the measured
 * phase in which they arrived, to tell whether the server acknowledged the offered rate in every
 * second, not only on average.
 *
 *   node bench/b3-live.mjs         # B3: BENCH_RATE=2000 BENCH_SUBSCRIBERS=100 BENCH_DURATION=10 (0 subscribers: no fan-out)
 *   node bench/b3-live.mjs live    # the live pair: BENCH_LIVE_RATE=1000, 0 then BENCH_LIVE_SUBSCRIBERS=50
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'undici';
import { BENCH_DIR, SCALE, envInt, fmtInt, greenApiGenerator, isMain, liveChildren, loadNow, log, percentile, round, sampleMemory, saveResult, sleep, startSwitchboard, cpuSecondsOf, mib } from './lib.mjs';

/**
 * Sends `rate` requests/s (open loop: the schedule does not wait for answers), each with a fresh
 * payload: `warmup` s of warm-up (phase `w`, counted in `warm`), then without a pause `seconds` s
 * measured (phase `m`, counted in `stats`), so that the measured phase starts with the server in
 * its steady state, requests in flight. `onMeasure()` is called as the measured phase starts.
 * Waits at most `drainMs` after the last send for the answers; a server that cannot keep up is
 * reported, not waited for. Counts, by the second of the measured phase, the measured requests
 * sent (`stats.sentPerSecond`) and every 200 answer received (`stats.okPerSecond`, the warm-up's
 * last answers included: in the steady state each second holds `rate` answers).
 */
async function pace(pool, server, gen, rate, { warmup, seconds }, warm, stats, onMeasure = () => undefined, drainMs = 30_000) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${server.ingestToken}` };
  const warmTotal = Math.round(rate * warmup);
  const total = warmTotal + Math.round(rate * seconds);
  const t0 = process.hrtime.bigint();
  let tm; // start of the measured phase
  const secondOf = (t) => Math.floor(Number(t - tm) / 1e9);
  const bump = (a, i) => (a[i] = (a[i] ?? 0) + 1);
  stats.sentPerSecond = [];
  stats.okPerSecond = [];
  let sent = 0;
  const inflight = new Set();
  while (sent < total) {
    const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - t0) / 1e9) * rate) + 1);
    while (sent < due) {
      const measured = sent >= warmTotal;
      sent++;
      const start = process.hrtime.bigint();
      if (measured && tm === undefined) {
        tm = start;
        onMeasure();
      }
      if (measured) bump(stats.sentPerSecond, secondOf(start));
      const s = measured ? stats : warm;
      const body = JSON.stringify(gen.message(`${'bench-ts:'}${start}:${measured ? 'm' : 'w'}`));
      const p = pool
        .request({ path: server.ingestPath, method: 'POST', headers, body })
        .then(async (res) => {
          await res.body.dump();
          const now = process.hrtime.bigint();
          if (res.statusCode === 200) {
            s.ok++;
            if (tm !== undefined && now >= tm) bump(stats.okPerSecond, secondOf(now));
          } else s.bad++;
          s.ingestMs.push(Number(now - start) / 1e6);
        })
        .catch(() => s.errors++);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await sleep(1);
  }
  const sendSeconds = Number(process.hrtime.bigint() - tm) / 1e9;
  let timer;
  const drained = await Promise.race([Promise.all(inflight).then(() => true), new Promise((r) => (timer = setTimeout(() => r(false), drainMs)))]);
  clearTimeout(timer);
  return { sent: total - warmTotal, sendSeconds, seconds: Number(process.hrtime.bigint() - tm) / 1e9, unanswered: drained ? 0 : inflight.size };
}

/** The run length of B3 and the live runs: BENCH_DURATION (10 s) × BENCH_SCALE, at least 3 s. */
const defaultDuration = () => Math.max(3, Math.round(envInt('BENCH_DURATION', 10) * Math.min(SCALE, 1)));

/**
 * One measured run against a fresh server: `subscribers` SSE streams (none: no child is forked
 * and `delivery` is null), a 2 s warm-up at `rate`, then at once `duration` s at `rate`. Answers
 * the result (not saved).
 */
export async function liveRun({ rate, subscribers, duration = defaultDuration(), warmup = 2, label = 'B3' }) {
  const server = await startSwitchboard();
  const mem = sampleMemory(server.pid);
  let subs;
  const messages = [];
  let waiter;
  const nextMessage = async (pred) => {
    for (;;) {
      const m = messages.find(pred);
      if (m) return m;
      await new Promise((r) => (waiter = r));
    }
  };
  if (subscribers > 0) {
    subs = fork(join(BENCH_DIR, 'servers', 'sse-subscribers.mjs'), [], { env: { ...process.env, URL: server.url, TOKEN: server.apiToken, SUBSCRIBERS: String(subscribers) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    liveChildren.add(subs);
    subs.once('exit', () => liveChildren.delete(subs));
    subs.on('message', (m) => {
      if (m.error) log(`${label} ${m.error}`);
      messages.push(m);
      waiter?.();
    });
  }
  const pool = new Pool(server.url, { connections: 64, pipelining: 1 });
  try {
    if (subs) await nextMessage((m) => m.ready);
    const gen = greenApiGenerator({ chats: 1000 });
    const warm = { ok: 0, bad: 0, errors: 0, ingestMs: [] };
    const stats = { ok: 0, bad: 0, errors: 0, ingestMs: [] };
    let load0;
    let cpu0;
    const sent = await pace(pool, server, gen, rate, { warmup, seconds: duration }, warm, stats, () => {
      load0 = loadNow();
      cpu0 = cpuSecondsOf(server.pid);
    });
    if (warm.ok < 0.9 * rate * warmup) log(`${label} warm-up: only ${warm.ok} of ${rate * warmup} requests answered 200 — the server cannot keep up`);
    const serverCpu = (cpuSecondsOf(server.pid) - cpu0) / sent.seconds;
    let r;
    if (subs) {
      subs.send({ expect: stats.ok });
      r = await nextMessage((m) => m.samples !== undefined);
    }
    const memory = mem.stop();
    stats.ingestMs.sort((a, b) => a - b);
    // 200 answers by the second of the send phase in which they arrived; the answers that came
    // after it (the drain) are counted apart.
    const seconds = Array.from({ length: duration }, (_, i) => i);
    const answered = seconds.map((i) => stats.okPerSecond[i] ?? 0);
    const shares = answered.map((n) => n / rate);
    const minShare = Math.min(...shares);
    const out = {
      label,
      rate,
      subscribers,
      duration,
      sent: sent.sent,
      sendSeconds: round(sent.sendSeconds, 2),
      // answered requests per second of the run, drain included: below `rate`, the server fell behind
      achievedRate: round(stats.ok / sent.seconds, 0),
      unanswered: sent.unanswered,
      overloaded: stats.ok < 0.98 * sent.sent || sent.seconds > sent.sendSeconds + 2,
      perSecond: {
        sent: seconds.map((i) => stats.sentPerSecond[i] ?? 0),
        answered,
        answeredAfter: stats.okPerSecond.slice(duration).reduce((a, n) => a + (n ?? 0), 0),
        // requests the generator sent after the send phase's last second: it fell behind its schedule
        sentAfter: stats.sentPerSecond.slice(duration).reduce((a, n) => a + (n ?? 0), 0),
        minSentShare: round(Math.min(...seconds.map((i) => (stats.sentPerSecond[i] ?? 0) / rate)), 4),
        minShare: round(minShare, 4),
        minSecond: shares.indexOf(minShare),
        // 200 answers (drain included) of the requests offered
        overallShare: round(stats.ok / sent.sent, 4),
      },
      ingest: { ok: stats.ok, non200: stats.bad, errors: stats.errors, p50: round(percentile(stats.ingestMs, 50), 2), p99: round(percentile(stats.ingestMs, 99), 2), max: round(stats.ingestMs[stats.ingestMs.length - 1], 2) },
      delivery: r
        ? {
            samples: r.samples,
            expected: r.expected,
            minPerSubscriber: r.minReceived,
            maxPerSubscriber: r.maxReceived,
            // every 200-acknowledged event reached every subscriber
            complete: r.minReceived >= stats.ok,
            p50: round(r.p50, 2),
            p90: round(r.p90, 2),
            p99: round(r.p99, 2),
            p999: round(r.p999, 2),
            max: round(r.max, 2),
            mean: round(r.mean, 2),
          }
        : null,
      serverCpuCores: round(serverCpu, 2),
      peakRssMiB: round(mib(memory.hwm)),
      peakRssBytes: memory.hwm,
      load: { before: load0, after: loadNow() },
    };
    const d = out.delivery;
    log(
      `${label} ${fmtInt(rate)}/s offered, ${subscribers} subscribers: ${fmtInt(out.achievedRate)} answered/s, lowest second ${round(100 * minShare, 1)}% of offered (second ${out.perSecond.minSecond}), ` +
        `overall ${round(100 * out.perSecond.overallShare, 1)}%; ingest ack p50 ${out.ingest.p50} ms p99 ${out.ingest.p99} ms` +
        (d ? `; delivery p50 ${d.p50} ms, p99 ${d.p99} ms, max ${d.max} ms (${fmtInt(d.samples)}/${fmtInt(d.expected)} deliveries${d.complete ? '' : ', INCOMPLETE'})` : '; no subscribers') +
        `; server cpu ${out.serverCpuCores}; rss ${out.peakRssMiB} MiB`,
    );
    return out;
  } finally {
    mem.stop();
    await pool.destroy().catch(() => undefined);
    subs?.kill('SIGKILL');
    await server.cleanup();
  }
}

/** B3: BENCH_RATE (2,000/s) with BENCH_SUBSCRIBERS (100; 0 runs without fan-out); saves b3.json. */
export async function runB3(opts = {}) {
  const out = await liveRun({
    rate: opts.rate ?? envInt('BENCH_RATE', 2000),
    subscribers: opts.subscribers ?? envInt('BENCH_SUBSCRIBERS', 100, { zero: true }),
    duration: opts.duration ?? defaultDuration(),
    warmup: opts.warmup ?? 2,
    label: 'B3',
  });
  saveResult('b3', out);
  return out;
}

/**
 * The live run of issue 15: BENCH_LIVE_RATE (1,000/s) offered, first without subscribers (the
 * baseline), then with BENCH_LIVE_SUBSCRIBERS (50), each on a fresh server; saves live.json.
 */
export async function runLive(opts = {}) {
  const rate = opts.rate ?? envInt('BENCH_LIVE_RATE', 1000);
  const subscribers = opts.subscribers ?? envInt('BENCH_LIVE_SUBSCRIBERS', 50);
  const duration = opts.duration ?? defaultDuration();
  const baseline = await liveRun({ rate, subscribers: 0, duration, label: 'live' });
  const fanout = await liveRun({ rate, subscribers, duration, label: 'live' });
  const out = { rate, subscribers, duration, runs: [baseline, fanout], ackP99Ratio: round(fanout.ingest.p99 / baseline.ingest.p99, 2) };
  saveResult('live', out);
  return out;
}

if (isMain(import.meta.url)) {
  if (process.argv[2] === 'live') await runLive();
  else await runB3();
}
