/**
 * The soak's SSE subscribers (a forked child, so that reading the streams does not share the
 * load generator's event loop): `SUBSCRIBERS` connections to `URL`/v1/stream that count the
 * events they receive and check that the sequences only go up. A stream that ends or fails is
 * reopened after 1 s with `Last-Event-ID`, as EventSource does, and counted as a reconnect.
 * Talks to its parent over IPC:
 *   → { ready }            once every stream answered 200
 *   → { error }            an HTTP status other than 200, or a socket error
 *   ← { sample: id }       → { sample: id, received: [n per subscriber], lastSeq: [...], reconnects, outOfOrder, bytes }
 *   ← { stop: true }       closes the streams and exits
 */
import { request } from 'node:http';

const url = new URL('/v1/stream', process.env.URL);
const subscribers = Number(process.env.SUBSCRIBERS ?? 4);
const token = process.env.TOKEN;

const received = new Array(subscribers).fill(0);
const lastSeq = new Array(subscribers).fill(0);
let bytes = 0;
let reconnects = 0;
let outOfOrder = 0;
let connected = 0;
let stopping = false;
const requests = new Set();

/** Reads the `id:` lines of complete SSE frames. */
function onFrames(i, text) {
  let at = 0;
  for (;;) {
    const k = text.indexOf('id: ', at);
    if (k < 0) return;
    if (k !== 0 && text.charCodeAt(k - 1) !== 10) {
      at = k + 4;
      continue;
    }
    const end = text.indexOf('\n', k);
    const seq = Number(text.slice(k + 4, end));
    if (seq <= lastSeq[i]) outOfOrder++;
    lastSeq[i] = seq;
    received[i]++;
    // The rest of this frame (its data line may hold "id: " in a text) is skipped.
    const next = text.indexOf('\n\n', end);
    at = next < 0 ? text.length : next + 2;
  }
}

function open(i, first) {
  const headers = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
  if (lastSeq[i] > 0) headers['last-event-id'] = String(lastSeq[i]);
  const req = request(url, { headers, agent: false }, (res) => {
    if (res.statusCode !== 200) {
      process.send({ error: `subscriber ${i}: HTTP ${res.statusCode}` });
      res.resume();
      return;
    }
    if (first && ++connected === subscribers) process.send({ ready: true });
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (chunk) => {
      bytes += Buffer.byteLength(chunk);
      buf += chunk;
      const cut = buf.lastIndexOf('\n\n');
      if (cut < 0) return;
      onFrames(i, buf.slice(0, cut + 2));
      buf = buf.slice(cut + 2);
    });
    res.on('close', () => reopen(i, req, 'the stream ended'));
  });
  requests.add(req);
  req.on('error', (err) => reopen(i, req, err.message));
  req.end();
}

function reopen(i, req, why) {
  if (!requests.delete(req) || stopping) return;
  reconnects++;
  process.send({ error: `subscriber ${i}: ${why}; reconnecting` });
  setTimeout(() => open(i, false), 1000);
}

for (let i = 0; i < subscribers; i++) open(i, true);

process.on('message', (m) => {
  if (m.sample !== undefined) process.send({ sample: m.sample, received, lastSeq, reconnects, outOfOrder, bytes });
  if (m.stop) {
    stopping = true;
    for (const r of requests) r.destroy();
    setTimeout(() => process.exit(0), 50);
  }
});
process.on('disconnect', () => process.exit(0));
