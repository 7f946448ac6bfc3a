/**
 * B2 replay: 1,000,000 GREEN-API notifications as JSON lines (the B1 mix: call offer, the call's
 * final status, text message; 10,000 chats) through
 *   node dist/cli/main.js replay FILE --connector greenapi --data DIR --no-progress
 * timed end to end (process start to exit), against baselines in child processes
 * (servers/raw-insert.mjs):
 *   - the target's (issue 15): a raw durable insert of the same lines — read, JSON.parse, insert
 *     (id, body) into a table with a TEXT PRIMARY KEY, WAL, synchronous=FULL, 5,000 rows per
 *     transaction, timed from process start to the database closed;
 *   - for information: a raw batched insert of the very rows Switchboard stored (same columns and
 *     bodies, same table and indexes, 5,000 rows per transaction); BENCH_B2_ROWS=0 leaves it out.
 *
 *   node bench/b2-replay.mjs           # BENCH_LINES=1000000 (× BENCH_SCALE), BENCH_CHATS=10000
 */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BENCH_DIR, CLI, SCALE, createBenchDatabase, envInt, fmtInt, greenApiGenerator, inspectDb, isMain, loadNow, log, mib, removeDir, requireBuilt, round, runNode, sampleMemory, saveResult, startChild, tempDir } from './lib.mjs';

/** Writes `lines` payloads to `file`; answers its size in bytes. */
export async function writeLines(file, lines, chats) {
  const gen = greenApiGenerator({ chats });
  const out = createWriteStream(file);
  const CHUNK = 2000;
  for (let i = 0; i < lines; i += CHUNK) {
    let s = '';
    for (let j = i; j < Math.min(lines, i + CHUNK); j++) s += `${JSON.stringify(gen.next())}\n`;
    if (!out.write(s)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
  return (await stat(file)).size;
}

/** Events stored so far in a (live, WAL) database; undefined before it exists. */
async function countEvents(dbPath) {
  const { default: Database } = await import('better-sqlite3');
  try {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT max(seq) AS n FROM events').get().n ?? 0;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Times `switchboard replay` of `file` into a fresh data folder, polling the stored count every
 * `pollMs` (throughput over time). Past `timeoutMs` the replay is killed and the partial figures
 * are answered with `finished: false`. `nodeArgs` e.g. `--cpu-prof`.
 */
export async function timeReplay(file, dataDir, { nodeArgs = [], cwd, timeoutMs = Infinity, pollMs = 10_000, env = {} } = {}) {
  requireBuilt();
  const dbPath = join(dataDir, 'switchboard.db');
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  const proc = startChild([...nodeArgs, CLI, 'replay', file, '--connector', 'greenapi', '--data', dataDir, '--no-progress'], { ready: /replayed (\d+) lines.*?(\d+) accepted, (\d+) duplicate, (\d+) quarantined/, name: 'replay', timeoutMs: 7 * 24 * 3600_000, cwd, env });
  proc.matched.catch(() => undefined);
  const mem = sampleMemory(proc.pid, 250);
  const progress = [];
  const poll = setInterval(async () => {
    const n = await countEvents(dbPath);
    if (n !== undefined) progress.push([round(elapsed(), 1), n]);
  }, pollMs);
  let timer;
  const timedOut = new Promise((r) => {
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => r('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([proc.exited.then(() => 'exited'), timedOut]);
  clearTimeout(timer);
  clearInterval(poll);
  const memory = mem.stop();
  if (outcome === 'timeout') {
    const seconds = elapsed();
    proc.child.kill('SIGKILL');
    await proc.exited;
    const stored = (await countEvents(dbPath)) ?? 0;
    progress.push([round(seconds, 1), stored]);
    log(`B2 replay stopped after ${round(seconds, 0)} s (BENCH_B2_TIMEOUT): ${fmtInt(stored)} events stored`);
    return { finished: false, seconds, lines: stored, accepted: stored, duplicates: 0, quarantined: 0, peakRssMiB: round(mib(memory.hwm)), progress };
  }
  const exit = await proc.exited;
  const seconds = elapsed();
  const m = /replayed (\d+) lines.*?(\d+) accepted, (\d+) duplicate, (\d+) quarantined/.exec(proc.stdout());
  if (exit.code !== 0 || !m) throw new Error(`replay exited ${exit.code ?? exit.signal}\n${proc.stderr()}`);
  progress.push([round(seconds, 1), Number(m[2])]);
  return { finished: true, seconds, lines: Number(m[1]), accepted: Number(m[2]), duplicates: Number(m[3]), quarantined: Number(m[4]), peakRssMiB: round(mib(memory.hwm)), progress, stdout: proc.stdout().trim() };
}

/**
 * Replay on PostgreSQL next to SQLite: BENCH_B2_PG_LINES (100,000 × BENCH_SCALE; 0 leaves it out)
 * lines of the same mix, replayed into a fresh SQLite folder and into a fresh PostgreSQL database.
 */
async function replayOnPostgres(dir, chats) {
  const lines = Math.round(envInt('BENCH_B2_PG_LINES', 100_000, { zero: true }) * SCALE);
  if (lines === 0) return undefined;
  const file = join(dir, 'greenapi-pg.jsonl');
  await writeLines(file, lines, chats);
  const sqlite = await timeReplay(file, join(dir, 'data-sqlite-small'));
  log(`B2 SQLite replay of ${fmtInt(lines)} lines: ${round(sqlite.seconds, 1)} s = ${fmtInt(lines / sqlite.seconds)} lines/s`);
  const db = createBenchDatabase();
  try {
    const pg = await timeReplay(file, join(dir, 'data-pg'), { env: { SWITCHBOARD_POSTGRES_URL: db.url } });
    log(`B2 PostgreSQL replay of ${fmtInt(lines)} lines: ${round(pg.seconds, 1)} s = ${fmtInt(lines / pg.seconds)} lines/s`);
    const summary = (r) => ({ seconds: r.seconds, linesPerSec: r.lines / r.seconds, accepted: r.accepted, peakRssMiB: r.peakRssMiB, stdout: r.stdout });
    return { lines, sqlite: summary(sqlite), postgres: summary(pg) };
  } finally {
    db.drop();
  }
}

export async function runB2(opts = {}) {
  const lines = opts.lines ?? Math.max(1000, Math.round(envInt('BENCH_LINES', 1_000_000) * SCALE));
  const chats = opts.chats ?? envInt('BENCH_CHATS', 10_000);
  const dir = tempDir('b2');
  try {
    const file = join(dir, 'greenapi.jsonl');
    log(`B2 writing ${fmtInt(lines)} lines …`);
    const bytes = await writeLines(file, lines, chats);
    const dataDir = join(dir, 'data');
    const load0 = loadNow();
    log(`B2 replaying ${fmtInt(lines)} lines (${round(mib(bytes))} MiB) …`);
    const timeoutMs = (opts.timeoutSec ?? envInt('BENCH_B2_TIMEOUT', 600)) * 1000;
    const r = await timeReplay(file, dataDir, { timeoutMs });
    const load1 = loadNow();
    const eventsPerSec = r.lines / r.seconds;
    log(`B2 switchboard replay${r.finished ? '' : ' (UNFINISHED)'}: ${fmtInt(r.lines)} lines in ${round(r.seconds, 1)} s = ${fmtInt(eventsPerSec)} lines/s (${r.accepted} accepted, ${r.duplicates} dup, ${r.quarantined} quarantined), peak RSS ${r.peakRssMiB} MiB`);
    const db = join(dataDir, 'switchboard.db');
    const disk = await inspectDb(db);
    // The target's baseline: the same lines, parsed and durably inserted as (id, body).
    const rawDurable = JSON.parse((await runNode([join(BENCH_DIR, 'servers', 'raw-insert.mjs'), 'durable-lines', file, dir])).stdout);
    log(`B2 raw durable insert of the lines: ${fmtInt(rawDurable.rows)} lines (${fmtInt(rawDurable.stored)} rows) in ${round(rawDurable.seconds, 1)} s = ${fmtInt(rawDurable.rowsPerSec)} lines/s`);
    // Extra information: the very rows Switchboard stored, same table and indexes.
    let raw;
    if (process.env.BENCH_B2_ROWS !== '0') {
      raw = JSON.parse((await runNode([join(BENCH_DIR, 'servers', 'raw-insert.mjs'), 'rows', db, dir])).stdout);
      log(`B2 raw insert of the same rows: ${fmtInt(raw.rows)} rows in ${round(raw.seconds, 1)} s = ${fmtInt(raw.rowsPerSec)} rows/s`);
    }
    const result = {
      lines,
      chats,
      fileBytes: bytes,
      replay: { ...r, eventsPerSec, stored: disk.events },
      rawDurable,
      ofRawDurable: round(eventsPerSec / rawDurable.rowsPerSec, 3),
      raw,
      ofRaw: raw ? round(eventsPerSec / raw.rowsPerSec, 3) : undefined,
      disk: {
        events: disk.events,
        dbBytes: disk.dbBytes,
        walBytes: disk.walBytes,
        bytesPerEvent: round((disk.dbBytes + disk.walBytes) / Math.max(disk.events, 1), 0),
        avgBodyBytes: round(disk.avgBody, 0),
        objects: disk.objects,
      },
      load: { before: load0, after: load1 },
      postgres: await replayOnPostgres(dir, chats),
    };
    saveResult('b2', result);
    return result;
  } finally {
    removeDir(dir);
  }
}

if (isMain(import.meta.url)) {
  const r = await runB2();
  log(`B2 ${fmtInt(r.replay.eventsPerSec)} lines/s = ${r.ofRawDurable} × raw durable insert of the lines (${fmtInt(r.rawDurable.rowsPerSec)} lines/s)${r.raw ? `, ${r.ofRaw} × raw insert of the same rows (${fmtInt(r.raw.rowsPerSec)} rows/s)` : ''}; ${r.disk.bytesPerEvent} bytes on disk per event`);
}
