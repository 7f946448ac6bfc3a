/**
 * The entry of the SQLite checkpointer thread (`node:worker_threads`): its own connection copies
 * the WAL's committed pages back into the database file (`wal_checkpoint(PASSIVE)`) every
 * `intervalMs`, so that the writer — whose automatic checkpoints are off in thread mode — never
 * spends a commit on it. PASSIVE never waits for the writer or readers: what it cannot copy now
 * it copies next time, and the writer starts the WAL over once everything in it was copied.
 * `workerData`: `{ path, intervalMs }`. A `'close'` message ends it after a last checkpoint.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const port = parentPort;
if (!port) throw new Error('checkpoint-thread.js runs as a worker thread only');
const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path);
db.pragma('busy_timeout = 0');

function checkpoint(): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or failing: the next round tries again; the writer's own failures are reported by the writer.
  }
}

const timer = setInterval(checkpoint, intervalMs);
port.on('message', (m: unknown) => {
  if (m !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  port.close();
});
