/**
 * What each part of the SQLite commit costs (issue 15, "bulk path"): the writer alone — no HTTP,
 * no normalization — committing the same pre-normalized B1/B2 GREEN-API mix in transactions of
 * `BENCH_COST_BATCH` events (`synchronous=FULL`, WAL), once as it ships and once without each
 * index and each projection step. Each variant runs on a fresh database in this process, the
 * variants interleaved over `BENCH_COST_ROUNDS` rounds (median taken) so that a busy machine
 * weighs on all of them alike.
 *
 *   node bench/storage-costs.mjs     # BENCH_COST_EVENTS=60000 BENCH_COST_BATCH=5000 BENCH_COST_ROUNDS=3
 *   BENCH_COST_ONLY=0,10 node bench/storage-costs.mjs   # only these variants (their indexes below)
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, SCALE, envInt, fmtInt, greenApiGenerator, isMain, log, round, saveResult, tempDir } from './lib.mjs';

const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);

/** Variants: a name, what it leaves out, and how (indexes dropped after the migrations, or a step switched off). */
export const VARIANTS = [
  { name: 'as shipped', drop: [], off: [] },
  { name: 'without events_type (type, seq)', drop: ['events_type'], off: [] },
  { name: 'without events_subject (subject, seq)', drop: ['events_subject'], off: [] },
  { name: 'without events_subject_type (subject, type)', drop: ['events_subject_type'], off: [] },
  { name: 'without events_platform (platform, seq)', drop: ['events_platform'], off: [] },
  { name: 'without events_connector (connector_id, seq)', drop: ['events_connector'], off: [] },
  { name: 'without the calls indexes (started, conversation)', drop: ['calls_started', 'calls_conversation'], off: [] },
  { name: 'without the calls projection', drop: [], off: ['call'] },
  { name: 'without the conversations projection (rows)', drop: [], off: ['conversation'] },
  { name: 'without the conversation counts', drop: [], off: ['mention'] },
  { name: 'without projections (calls, conversations, counts)', drop: [], off: ['projections'] },
  { name: 'projections deferred (bulk load), without their catch-up', drop: [], off: ['defer'] },
  { name: 'projections deferred, without events_platform and events_connector', drop: ['events_platform', 'events_connector'], off: ['defer'] },
  { name: 'projections deferred, no checkpoints in the writer (wal_autocheckpoint=0)', drop: [], off: ['defer', 'checkpoint'] },
  { name: 'no checkpoints in the writer (wal_autocheckpoint=0)', drop: [], off: ['checkpoint'] },
  { name: 'events and the id index only', drop: ['events_type', 'events_subject', 'events_subject_type', 'events_platform', 'events_connector'], off: ['projections'] },
];

async function normalizedBatches(total, batch) {
  const { normalizeGreenApi } = await dist('connectors/greenapi/normalize.js');
  const gen = greenApiGenerator({ chats: 10_000 });
  const receivedAt = new Date().toISOString();
  const batches = [];
  for (let i = 0; i < total; i += batch) {
    const events = [];
    for (let j = i; j < Math.min(total, i + batch); j++) events.push(...normalizeGreenApi(gen.next(), { connectorId: 'wa', receivedAt }));
    batches.push({ connectorId: 'wa', receivedAt, bodies: events.map((e) => JSON.stringify(e)), quarantine: [] });
  }
  return batches;
}

async function runVariant(variant, batches, dir) {
  const { default: Database } = await import('better-sqlite3');
  const { migrate, SQLITE_MIGRATIONS } = await dist('server/store/sqlite/index.js');
  const { SqliteWriter } = await dist('server/store/sqlite/writer.js');
  const path = join(dir, `${variant.name.replace(/\W+/g, '-')}.db`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  migrate(db, SQLITE_MIGRATIONS);
  for (const index of variant.drop) db.exec(`DROP INDEX ${index}`);
  if (variant.off.includes('checkpoint')) db.pragma('wal_autocheckpoint = 0');
  const writer = new SqliteWriter();
  writer.attach(db);
  if (variant.off.includes('projections')) writer.projections.apply = () => undefined;
  for (const step of ['call', 'conversation', 'mention']) if (variant.off.includes(step)) writer.projections[step] = () => undefined;
  let events = 0;
  const t0 = process.hrtime.bigint();
  for (const b of batches) {
    writer.commit([b], { deferProjections: variant.off.includes('defer') });
    events += b.bodies.length;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  writer.close();
  db.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  return { events, seconds, usPerEvent: (seconds * 1e6) / events };
}

/**
 * What a commit costs as an entity's history grows: one operator and one conversation get a
 * status change and a state change per commit (live commits, one at a time); the µs per commit
 * of the first `window` commits after `early` and of the last `window` of `total`. Kept folds make
 * a new event cost the same at any history; re-reading the entity's events made it grow with it.
 */
async function runHistory({ total = 3_000, early = 100, window = 300 } = {}) {
  const { SqliteStore } = await dist('server/store/sqlite/index.js');
  const { collector } = await dist('core/index.js');
  const dir = tempDir('history');
  const store = new SqliteStore({ path: join(dir, 'sb.db'), durability: 'full', writer: 'inline' });
  await store.open();
  const marks = new Map();
  try {
    for (let i = 0; i < total; i++) {
      if (i === early || i === total - window) marks.set(i, process.hrtime.bigint());
      if (i === early + window) marks.set('earlyEnd', process.hrtime.bigint());
      const out = collector('twin', { connectorId: 'twin', receivedAt: '2026-01-01T00:00:00.000Z' }, { i }, `history|${i}`, 'bench');
      const time = 1_700_000_000_000 + i * 1000;
      out.emit('operator.status-changed', 'operator/7', { operatorId: '7', operator: { id: '7', name: 'Анна' }, status: i % 2 ? 'online' : 'away' }, time);
      out.emit(i % 2 ? 'conversation.assigned' : 'conversation.unassigned', 'conversation/c1', { conversationId: 'c1', operator: { id: '7' }, client: { id: 'k1' } }, time);
      await store.commit([{ connectorId: 'twin', receivedAt: '2026-01-01T00:00:00.000Z', events: out.events, quarantine: [] }]);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const end = process.hrtime.bigint();
  const us = (a, b) => Number(b - a) / 1e3 / window;
  const first = us(marks.get(early), marks.get('earlyEnd'));
  const last = us(marks.get(total - window), end);
  return { total, early, window, usPerCommitEarly: round(first, 0), usPerCommitLate: round(last, 0), ratio: round(last / first, 2) };
}

export async function runStorageCosts() {
  const total = Math.round(envInt('BENCH_COST_EVENTS', 60_000) * Math.min(SCALE, 1));
  const batch = envInt('BENCH_COST_BATCH', 5_000);
  const rounds = envInt('BENCH_COST_ROUNDS', 3);
  log(`storage costs: ${fmtInt(total)} payloads in transactions of ${fmtInt(batch)}, ${VARIANTS.length} variants × ${rounds} rounds …`);
  const batches = await normalizedBatches(total, batch);
  const dir = tempDir('costs');
  const only = process.env.BENCH_COST_ONLY?.split(',').map(Number);
  const variants = only ? VARIANTS.filter((_, i) => only.includes(i)) : VARIANTS;
  const samples = new Map(variants.map((v) => [v.name, []]));
  try {
    await runVariant(variants[0], batches, dir); // warm-up: caches, JIT
    for (let r = 0; r < rounds; r++) for (const v of variants) samples.get(v.name).push(await runVariant(v, batches, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(samples.get(variants[0].name).map((s) => s.usPerEvent));
  const rows = variants.map((v) => {
    const us = median(samples.get(v.name).map((s) => s.usPerEvent));
    return { variant: v.name, usPerEvent: round(us, 1), eventsPerSec: round(1e6 / us, 0), savedUsPerEvent: round(base - us, 1), savedPct: round((100 * (base - us)) / base, 1) };
  });
  for (const r of rows) log(`  ${r.variant.padEnd(55)} ${String(r.usPerEvent).padStart(6)} µs/event  ${fmtInt(r.eventsPerSec).padStart(7)}/s  saves ${r.savedPct}%`);
  const history = await runHistory();
  log(
    `  history: one operator and one conversation, a change each per commit: ${history.usPerCommitEarly} µs per commit after ${fmtInt(history.early)} commits, ` +
      `${history.usPerCommitLate} µs after ${fmtInt(history.total - history.window)} (${history.ratio}×)`,
  );
  const out = { events: samples.get(variants[0].name)[0].events, payloads: total, batch, rounds, rows, history };
  saveResult('costs', out);
  return out;
}

if (isMain(import.meta.url)) await runStorageCosts();
