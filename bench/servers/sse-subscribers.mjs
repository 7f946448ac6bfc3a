/**
 * The subscribers of B3 and of the live run (a forked child, so that reading the streams does not
 * share the ingester's event loop): `SUBSCRIBERS` SSE connections to `URL`/v1/stream (at least
 * one: with none, b3-live.mjs does not fork this). Each event's payload text holds
 * `bench-ts:<hrtime ns>:<phase>`, the send time of its ingest request (process.hrtime is
 * CLOCK_MONOTONIC, common to the processes of this machine); the latency is the arrival time of
 * the chunk holding the event minus that. Talks to its parent over IPC:
 *   → { ready }                      once every stream answered
 *   ← { expect: n }                  n measured events were sent; finish when each has them (or 15 s)
 *   → { latenciesMs summary, fewest and most events received by one subscriber, ... }
 */
import { request } from 'node:http';

const url = new URL('/v1/stream', process.env.URL);
const subscribers = Number(process.env.SUBSCRIBERS ?? 100);
const token = process.env.TOKEN;

const lat = [];
const received = new Array(subscribers).fill(0);
let connected = 0;
let expect = Infinity;
let finish;
const MARK = 'bench-ts:';

// The streams are read as bytes (every byte the scan looks at is ASCII): decoding 100 streams of
// UTF-8 into strings would cost this process, which shares the machine's two cores with the
// server, more than the scan itself.
const MARK_B = Buffer.from(MARK);
const END_B = Buffer.from('\n\n');

function onEvents(i, buf, end, now) {
  let at = 0;
  for (;;) {
    const k = buf.indexOf(MARK_B, at);
    if (k < 0 || k >= end) return;
    let stop = k + MARK_B.length;
    let sent = 0n;
    let digits = 0;
    for (let c = buf[stop]; c >= 48 && c <= 57; c = buf[++stop]) digits++;
    if (digits > 0) sent = BigInt(buf.toString('latin1', k + MARK_B.length, stop));
    const phase = buf[stop + 1];
    // One mark per event: skip the copy in data.native, up to the end of this event.
    const next = buf.indexOf(END_B, stop);
    at = next < 0 || next >= end ? end : next;
    if (phase !== 109 /* m */) continue;
    received[i]++;
    lat.push(Number(now - sent) / 1e6);
  }
}

for (let i = 0; i < subscribers; i++) {
  const req = request(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false }, (res) => {
    if (res.statusCode !== 200) {
      process.send({ error: `subscriber ${i}: HTTP ${res.statusCode}` });
      return;
    }
    let buf = Buffer.alloc(0);
    res.on('data', (chunk) => {
      const now = process.hrtime.bigint();
      if (buf.length === 0 && connected < subscribers && !res.counted) {
        res.counted = true;
        if (++connected === subscribers) process.send({ ready: true });
      }
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const cut = buf.lastIndexOf(END_B);
      if (cut < 0) return;
      onEvents(i, buf, cut + 2, now);
      buf = buf.subarray(cut + 2);
      if (received[i] >= expect) maybeDone();
    });
  });
  req.on('error', (err) => process.send({ error: `subscriber ${i}: ${err.message}` }));
  req.end();
}

function maybeDone() {
  if (finish && received.every((n) => n >= expect)) finish();
}

process.on('message', (m) => {
  if (m.expect === undefined) return;
  expect = m.expect;
  const done = new Promise((r) => (finish = r));
  const timeout = new Promise((r) => setTimeout(r, 15_000));
  maybeDone();
  void Promise.race([done, timeout]).then(() => {
    lat.sort((a, b) => a - b);
    const pct = (p) => lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))];
    process.send({
      samples: lat.length,
      expected: expect * subscribers,
      minReceived: Math.min(...received),
      maxReceived: Math.max(...received),
      p50: pct(50),
      p90: pct(90),
      p99: pct(99),
      p999: pct(99.9),
      max: lat[lat.length - 1],
      mean: lat.reduce((a, b) => a + b, 0) / Math.max(lat.length, 1),
    });
    setTimeout(() => process.exit(0), 50);
  });
});
