/**
 * B2's baselines: raw batched SQLite inserts — no validation, no normalization, no projections.
 * WAL, synchronous=FULL (every commit is durable), `BATCH` rows per transaction (default 5,000,
 * as `switchboard replay`).
 *
 *   node raw-insert.mjs durable-lines FILE DST_DIR
 *       The target's baseline (issue 15), "a raw durable insert of the same lines": reads the
 *       JSON lines file, JSON.parse()s each line and inserts (id, body) into
 *       `lines (id TEXT PRIMARY KEY, body TEXT NOT NULL)` with INSERT OR IGNORE; body = the line
 *       as read, id = the payload's `idMessage` qualified by its `typeWebhook` and `status` (the
 *       offer and the final status of one GREEN-API call share their idMessage; Switchboard's
 *       GREEN-API identity is the same triple), or the SHA-256 of the line when it has no
 *       idMessage. Timed like `switchboard replay`: from the start of this process until the
 *       database is closed (its WAL checkpointed); `insertSeconds` is the first read to the last
 *       commit.
 *   node raw-insert.mjs rows SRC_DB DST_DIR
 *       The very rows Switchboard stored (same columns, same bodies) into the same events table
 *       and indexes (migrations/sqlite/001_init.sql), loaded into memory first; only the inserts
 *       are timed.
 * Prints one JSON line: { mode, rows, stored, seconds, rowsPerSec, batch, … }.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const [mode, src, dstDir] = process.argv.slice(2);
const batch = Number(process.env.BATCH ?? 5000);
const root = process.env.BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const file = join(dstDir, `raw-${mode}.db`);
rmSync(file, { force: true });
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');

let n = 0;
let seconds;
const extra = {};
if (mode === 'durable-lines') {
  db.exec('CREATE TABLE lines (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT OR IGNORE INTO lines (id, body) VALUES (?, ?)');
  const insertMany = db.transaction((rows) => {
    for (const r of rows) insert.run(r[0], r[1]);
  });
  const started = process.hrtime.bigint();
  let pending = [];
  for await (const line of createInterface({ input: createReadStream(src, { encoding: 'utf8' }), crlfDelay: Infinity })) {
    if (!line) continue;
    const p = JSON.parse(line);
    const id = typeof p.idMessage === 'string' ? `${p.idMessage}|${p.typeWebhook}|${p.status ?? ''}` : createHash('sha256').update(line).digest('hex');
    pending.push([id, line]);
    if (pending.length >= batch) {
      insertMany(pending);
      n += pending.length;
      pending = [];
    }
  }
  insertMany(pending);
  n += pending.length;
  extra.insertSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  // process start → database closed, the clock of the replay it is compared with
  seconds = process.uptime();
  const check = new Database(file, { readonly: true });
  extra.stored = check.prepare('SELECT count(*) AS n FROM lines').get().n;
  check.close();
} else if (mode === 'rows') {
  db.exec(readFileSync(join(root, 'migrations', 'sqlite', '001_init.sql'), 'utf8'));
  const insert = db.prepare('INSERT OR IGNORE INTO events (id, type, platform, connector_id, subject, time, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insertMany = db.transaction((rows) => {
    for (const r of rows) insert.run(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
  });
  const source = new Database(src, { readonly: true });
  const rows = source.prepare('SELECT id, type, platform, connector_id, subject, time, received_at, body FROM events ORDER BY seq').raw().all();
  source.close();
  const started = process.hrtime.bigint();
  for (let i = 0; i < rows.length; i += batch) insertMany(rows.slice(i, i + batch));
  n = rows.length;
  seconds = Number(process.hrtime.bigint() - started) / 1e9;
  extra.stored = db.prepare('SELECT count(*) AS n FROM events').get().n;
  db.close();
} else {
  throw new Error(`mode: durable-lines or rows, found ${mode}`);
}
if (!process.env.BENCH_KEEP) for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
process.stdout.write(`${JSON.stringify({ mode, rows: n, seconds, rowsPerSec: n / seconds, batch, ...extra })}\n`);
