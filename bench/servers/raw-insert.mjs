/**
 * B2's baseline: a raw batched SQLite insert, no validation, no normalization, no projections.
 *
 *   node raw-insert.mjs rows SRC_DB DST_DIR   # the very rows Switchboard stored (same columns,
 *                                             # same bodies), loaded first, then timed inserts
 *   node raw-insert.mjs lines FILE DST_DIR    # read + JSON.parse each line, derive the columns,
 *                                             # body = the line as received
 * Same events table and indexes as migrations/sqlite/001_init.sql, WAL, synchronous=FULL,
 * `BATCH` rows per transaction (default 1000, as `switchboard replay`). Prints one JSON line.
 */
import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const [mode, src, dstDir] = process.argv.slice(2);
const batch = Number(process.env.BATCH ?? 1000);
const root = process.env.BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const file = join(dstDir, `raw-${mode}.db`);
rmSync(file, { force: true });
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(readFileSync(join(root, 'migrations', 'sqlite', '001_init.sql'), 'utf8'));
const insert = db.prepare('INSERT OR IGNORE INTO events (id, type, platform, connector_id, subject, time, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
const insertMany = db.transaction((rows) => {
  for (const r of rows) insert.run(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
});

let n = 0;
let started;
if (mode === 'rows') {
  const source = new Database(src, { readonly: true });
  const rows = source.prepare('SELECT id, type, platform, connector_id, subject, time, received_at, body FROM events ORDER BY seq').raw().all();
  source.close();
  started = process.hrtime.bigint();
  for (let i = 0; i < rows.length; i += batch) insertMany(rows.slice(i, i + batch));
  n = rows.length;
} else if (mode === 'lines') {
  started = process.hrtime.bigint();
  const receivedAt = new Date().toISOString();
  let pending = [];
  for await (const line of createInterface({ input: createReadStream(src, { encoding: 'utf8' }), crlfDelay: Infinity })) {
    if (!line) continue;
    const p = JSON.parse(line);
    const chat = p.senderData?.chatId ?? p.from ?? '';
    pending.push([`${p.idMessage}|${p.typeWebhook}|${p.status ?? ''}`, p.typeWebhook, 'greenapi', 'raw', `chat/${chat}`, new Date(p.timestamp * 1000).toISOString(), receivedAt, line]);
    if (pending.length >= batch) {
      insertMany(pending);
      n += pending.length;
      pending = [];
    }
  }
  insertMany(pending);
  n += pending.length;
} else {
  throw new Error(`mode: rows or lines, found ${mode}`);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const stored = db.prepare('SELECT count(*) AS n FROM events').get().n;
db.close();
if (!process.env.BENCH_KEEP) for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
process.stdout.write(`${JSON.stringify({ mode, rows: n, stored, seconds, rowsPerSec: n / seconds, batch })}\n`);
