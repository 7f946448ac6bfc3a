/**
 * The ceilings of issue 15's targets on this machine: each benchmark run side by side, in the same
 * run, with Switchboard as shipped and with Switchboard without any storage (bench/no-storage.mjs:
 * the store's commit answers at once and writes nothing; everything else runs as shipped). What
 * the no-storage run reaches is the most that any storage engine could give; a target above it
 * cannot be met by storage work on this machine.
 *
 *   node bench/ceiling.mjs          # BENCH_CEILING_ROUNDS=2 BENCH_DURATION=10 BENCH_CEILING_LINES=200000
 *   node bench/ceiling.mjs b1|b2|b3 # one of them
 *
 * - B1 at 64 connections: bare node:http, Fastify with one route answering 200 (the framework
 *   Switchboard runs on, doing nothing), Express + SQLite, Switchboard, Switchboard without
 *   storage — interleaved, BENCH_CEILING_ROUNDS rounds, the median of each.
 * - B2: replay of BENCH_CEILING_LINES GREEN-API lines with and without storage, interleaved, and
 *   the raw durable insert of the same lines (B2's baseline).
 * - B3: 2,000 events/s with 100 SSE subscribers, with and without storage.
 * Prints markdown tables and saves bench/results/ceiling.json.
 */
import { join } from 'node:path';
import { runOne, TARGETS } from './b1-webhook.mjs';
import { timeReplay, writeLines } from './b2-replay.mjs';
import { liveRun } from './b3-live.mjs';
import { BENCH_DIR, envInt, fmtInt, isMain, loadNow, log, removeDir, round, runNode, saveResult, tempDir } from './lib.mjs';

const NO_STORAGE = ['--import', join(BENCH_DIR, 'no-storage.mjs')];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (x) => `${round(100 * x, 1)}%`;

async function ceilingB1(rounds) {
  const duration = envInt('BENCH_DURATION', 10);
  const warmup = envInt('BENCH_WARMUP', 3);
  const kinds = [
    ['bare', 'bare', []],
    ['fastify', 'fastify', []],
    ['express', 'express', []],
    ['switchboard', 'switchboard', []],
    ['no-storage', 'switchboard', NO_STORAGE],
  ];
  const runs = Object.fromEntries(kinds.map(([k]) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [kind, target, nodeArgs] of kinds) {
      const x = await runOne(target, 64, { duration, warmup, nodeArgs });
      runs[kind].push({ reqPerSec: x.reqPerSec, p99: x.latency.p99, serverCpuCores: x.serverCpuCores, loadgenCpuCores: x.loadgenCpuCores, peakRssMiB: x.memory.peakRssMiB });
      log(`ceiling B1 round ${r + 1} ${kind}: ${fmtInt(x.reqPerSec)} req/s, p99 ${x.latency.p99} ms, server cpu ${x.serverCpuCores}, load generator cpu ${x.loadgenCpuCores}`);
    }
  }
  const med = Object.fromEntries(Object.entries(runs).map(([k, xs]) => [k, { reqPerSec: median(xs.map((x) => x.reqPerSec)), p99: median(xs.map((x) => x.p99)), serverCpuCores: round(median(xs.map((x) => x.serverCpuCores)), 2), loadgenCpuCores: round(median(xs.map((x) => x.loadgenCpuCores)), 2) }]));
  return { connections: 64, duration, rounds, runs, median: med };
}

async function ceilingB2(rounds) {
  const lines = envInt('BENCH_CEILING_LINES', 200_000);
  const dir = tempDir('ceiling-b2');
  try {
    const file = join(dir, 'greenapi.jsonl');
    await writeLines(file, lines, 10_000);
    const runs = { switchboard: [], 'no-storage': [] };
    for (let r = 0; r < rounds; r++) {
      for (const [kind, nodeArgs] of [['switchboard', []], ['no-storage', NO_STORAGE]]) {
        const data = join(dir, `data-${kind}-${r}`);
        const x = await timeReplay(file, data, { nodeArgs });
        runs[kind].push({ seconds: x.seconds, linesPerSec: x.lines / x.seconds, peakRssMiB: x.peakRssMiB });
        log(`ceiling B2 round ${r + 1} ${kind}: ${fmtInt(x.lines)} lines in ${round(x.seconds, 1)} s = ${fmtInt(x.lines / x.seconds)} lines/s`);
        removeDir(data);
      }
    }
    const raw = JSON.parse((await runNode([join(BENCH_DIR, 'servers', 'raw-insert.mjs'), 'durable-lines', file, dir])).stdout);
    log(`ceiling B2 raw durable insert: ${fmtInt(raw.rowsPerSec)} lines/s`);
    const med = Object.fromEntries(Object.entries(runs).map(([k, xs]) => [k, { linesPerSec: median(xs.map((x) => x.linesPerSec)), seconds: median(xs.map((x) => x.seconds)) }]));
    return { lines, rounds, runs, median: med, rawDurable: { linesPerSec: raw.rowsPerSec, seconds: raw.seconds } };
  } finally {
    removeDir(dir);
  }
}

async function ceilingB3() {
  const out = {};
  for (const [kind, nodeArgs] of [['switchboard', ''], ['no-storage', NO_STORAGE.join(' ')]]) {
    process.env.BENCH_NODE_ARGS = nodeArgs;
    const x = await liveRun({ rate: 2000, subscribers: 100, duration: envInt('BENCH_DURATION', 10), label: `ceiling B3 ${kind}` });
    out[kind] = { answeredPerSec: x.achievedRate, ackP99: round(x.ingest.p99, 1), deliveryP50: round(x.delivery?.p50, 1), deliveryP99: round(x.delivery?.p99, 1), complete: x.delivery?.complete, serverCpuCores: x.serverCpuCores };
  }
  delete process.env.BENCH_NODE_ARGS;
  return out;
}

function report(r) {
  const lines = [];
  if (r.b1) {
    const m = r.b1.median;
    const bare = m.bare.reqPerSec;
    const express = m.express.reqPerSec;
    lines.push(`B1, 64 connections, median of ${r.b1.rounds} interleaved rounds of ${r.b1.duration} s:`, '');
    lines.push('| server | req/s | of bare node:http | × Express + SQLite | p99 | server CPU (cores) | load generator CPU (cores) |', '| --- | --- | --- | --- | --- | --- | --- |');
    const names = { bare: TARGETS.bare, fastify: 'Fastify, one route answering 200', express: TARGETS.express, switchboard: 'Switchboard as shipped', 'no-storage': 'Switchboard without storage (bench/no-storage.mjs)' };
    for (const [k, x] of Object.entries(m)) lines.push(`| ${names[k]} | ${fmtInt(x.reqPerSec)} | ${pct(x.reqPerSec / bare)} | ${round(x.reqPerSec / express, 2)}× | ${x.p99} ms | ${x.serverCpuCores} | ${x.loadgenCpuCores} |`);
    lines.push('', `Targets: ≥ 40% of bare = ${fmtInt(0.4 * bare)} req/s; ≥ 8× Express + SQLite = ${fmtInt(8 * express)} req/s; p99 ≤ 15 ms.`, '');
  }
  if (r.b2) {
    const m = r.b2.median;
    const raw = r.b2.rawDurable.linesPerSec;
    lines.push(`B2, replay of ${fmtInt(r.b2.lines)} lines (process start to exit), median of ${r.b2.rounds} interleaved rounds:`, '');
    lines.push('| run | lines/s | of the raw durable insert |', '| --- | --- | --- |');
    lines.push(`| Switchboard as shipped | ${fmtInt(m.switchboard.linesPerSec)} | ${pct(m.switchboard.linesPerSec / raw)} |`);
    lines.push(`| Switchboard without storage | ${fmtInt(m['no-storage'].linesPerSec)} | ${pct(m['no-storage'].linesPerSec / raw)} |`);
    lines.push(`| raw durable insert of the same lines | ${fmtInt(raw)} | 100% |`, '', `Targets: ≥ 30,000 lines/s and ≥ 25% of the raw durable insert = ${fmtInt(0.25 * raw)} lines/s.`, '');
  }
  if (r.b3) {
    lines.push('B3, 2,000 events/s offered, 100 SSE subscribers:', '');
    lines.push('| run | answered/s | ack p99 | delivery p50 | delivery p99 | every delivery | server CPU (cores) |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const [k, x] of Object.entries(r.b3)) lines.push(`| ${k === 'switchboard' ? 'Switchboard as shipped' : 'Switchboard without storage'} | ${fmtInt(x.answeredPerSec)} | ${x.ackP99} ms | ${x.deliveryP50} ms | ${x.deliveryP99} ms | ${x.complete ? 'yes' : 'NO'} | ${x.serverCpuCores} |`);
    lines.push('', 'Target: delivery p99 ≤ 50 ms.', '');
  }
  return lines.join('\n');
}

export async function runCeiling(which = ['b1', 'b2', 'b3']) {
  const rounds = envInt('BENCH_CEILING_ROUNDS', 2);
  const load0 = loadNow();
  const r = { at: new Date().toISOString() };
  if (which.includes('b1')) r.b1 = await ceilingB1(rounds);
  if (which.includes('b2')) r.b2 = await ceilingB2(rounds);
  if (which.includes('b3')) r.b3 = await ceilingB3();
  r.load = { before: load0, after: loadNow() };
  saveResult('ceiling', r);
  return r;
}

if (isMain(import.meta.url)) {
  const which = process.argv.slice(2);
  const r = await runCeiling(which.length ? which : undefined);
  process.stdout.write(`${report(r)}\n`);
}
