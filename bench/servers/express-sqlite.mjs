/**
 * What a user would write instead: a plain Express handler that inserts each request into
 * SQLite (better-sqlite3, WAL, synchronous=FULL: one INSERT, one commit, one fsync per request).
 * Data in `$BENCH_DATA/plain.db`. Prints `listening <port>`.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';

const db = new Database(join(process.env.BENCH_DATA ?? '.', 'plain.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS webhooks (id INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL, type TEXT, body TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO webhooks (received_at, type, body) VALUES (?, ?, ?)');

const app = express();
app.use(express.json({ limit: '4mb' }));
app.post('/ingest/:id', (req, res) => {
  insert.run(new Date().toISOString(), String(req.body?.typeWebhook ?? ''), JSON.stringify(req.body));
  res.json({ accepted: 1 });
});
app.get('/count', (_req, res) => res.json({ rows: db.prepare('SELECT count(*) AS n FROM webhooks').get().n }));

const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
server.keepAliveTimeout = 60_000;
process.on('SIGTERM', () => {
  server.close(() => {
    db.close();
    process.exit(0);
  });
  server.closeAllConnections();
});
