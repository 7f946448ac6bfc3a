/**
 * Slow and silent clients, against a real Switchboard on loopback: a client that sends its
 * headers and then nothing, or trickles its body a byte at a time, is answered 408 and
 * disconnected after `server.requestTimeout` while other requests are answered meanwhile; an SSE
 * subscriber that never reads does not hold up ingest, and gets every event, in order, once it
 * reads again.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, INGEST_TOKEN, apiHeaders, ingestHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';

interface RawClient {
  readonly socket: Socket;
  /** What the server sent so far. */
  text(): string;
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

function rawClient(url: string, head: string): RawClient {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    text += d;
  });
  socket.on('error', () => undefined);
  const done = new Promise<void>((r) => socket.once('close', () => ((closed = true), r())));
  socket.write(head);
  return { socket, text: () => text, closed: done, isClosed: () => closed };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);
}

const ingestHead = (host: string, length: number) =>
  `POST /ingest/wa HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${INGEST_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('slow and silent clients', () => {
  let t: TestServer;
  const host = () => new URL(t.url).host;
  const post = (body: unknown) => fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(body) });

  beforeAll(async () => {
    t = await startTestServer({ server: { requestTimeout: 1000 } });
  });
  afterAll(async () => t.close());

  it('a client that sends its headers and then nothing is answered 408 and disconnected; other requests are answered meanwhile', async () => {
    const silent = rawClient(t.url, `${ingestHead(host(), 1000)}[`);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(waMessage(`meanwhile ${i}`))));
    const health = await fetch(`${t.url}/healthz`);
    const answeredWhileOpen = !silent.isClosed();
    expect(answers.map((a) => a.status)).toEqual(Array<number>(20).fill(200));
    expect(health.status).toBe(200);
    expect(answeredWhileOpen).toBe(true);
    await within(silent.closed, 10_000, 'the silent client was not disconnected');
    expect(silent.text()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a client that trickles its body a byte at a time is cut off too', async () => {
    const trickle = rawClient(t.url, ingestHead(host(), 100_000));
    const body = JSON.stringify(waMessage('x'.repeat(50_000), 'TRICKLE-1'));
    let sent = 0;
    const timer = setInterval(() => {
      if (!trickle.isClosed()) trickle.socket.write(body[sent++] ?? ' ');
    }, 50);
    try {
      await within(trickle.closed, 10_000, 'the trickling client was not disconnected');
    } finally {
      clearInterval(timer);
    }
    expect(trickle.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect((await post(waMessage('after trickle'))).status).toBe(200);
    const page = (await (await fetch(`${t.url}/v1/events?limit=1000`, { headers: apiHeaders })).json()) as { events: { data: { messageId: string } }[] };
    expect(page.events.map((e) => e.data.messageId)).not.toContain('TRICKLE-1');
  });

  it('an SSE subscriber that never reads does not hold up ingest, and gets every event in order once it reads', async () => {
    const before = (await (await fetch(`${t.url}/v1/events?order=desc&limit=1`, { headers: apiHeaders })).json()) as { events: { sequence: string }[] };
    const after = before.events[0]?.sequence ?? '0';
    const stream = rawClient(t.url, `GET /v1/stream?after=${after} HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Bearer ${API_TOKEN}\r\nAccept: text/event-stream\r\n\r\n`);
    await within(
      new Promise<void>((r) => {
        const check = () => (stream.text().includes('retry:') ? r() : setTimeout(check, 10));
        check();
      }),
      5_000,
      'the stream did not start',
    );
    stream.socket.pause(); // never reads: the kernel buffers fill, then the server's writes wait
    // 4,000 events of ~4 KiB each: far more than the socket buffers hold.
    const text = 'y'.repeat(4000);
    const ids: string[] = [];
    for (let round = 0; round < 20; round++) {
      const batches = Array.from({ length: 10 }, (_, b) => Array.from({ length: 20 }, (_, k) => {
        const id = `SSE-${round}-${b}-${k}`;
        ids.push(id);
        return waMessage(text, id);
      }));
      const answers = await within(Promise.all(batches.map((batch) => post(batch))), 15_000, 'ingest was held up by the stalled subscriber');
      expect(answers.map((a) => a.status)).toEqual(Array<number>(10).fill(200));
    }
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect(stream.isClosed()).toBe(false);
    expect(stream.text().length).toBeLessThan(ids.length * text.length); // it did stall

    // Reading again, it gets every event once, in order.
    stream.socket.resume();
    const last = ids[ids.length - 1] as string;
    await within(
      new Promise<void>((r) => {
        const check = () => (stream.text().includes(last) ? r() : setTimeout(check, 20));
        check();
      }),
      20_000,
      'the subscriber did not get every event after it read again',
    );
    const seen = [...stream.text().matchAll(/"messageId":"(SSE-[\d-]+)"/g)].map((m) => m[1]);
    expect(seen).toEqual(ids);
    stream.socket.destroy();
    await stream.closed;
  });
});
