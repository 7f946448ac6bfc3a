/**
 * Credentials in the query string: `?access_token=` is taken on `GET /v1/stream` only (for
 * `EventSource`, which cannot set headers); the preferred way is a short-lived, one-use stream
 * ticket from `POST /v1/stream/tickets`. Neither the token nor a ticket ever reaches the log.
 */
import Fastify, { LogController } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_STREAM_TICKETS, STREAM_TICKET_TTL_MS, StreamTickets, redactCredentials } from '../src/server/http/stream-auth.js';
import { captureLogs, type CapturedLogs } from './helpers/logs.js';
import { API_TOKEN, apiHeaders, ingestHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';

interface Ticket {
  ticket: string;
  expiresAt: string;
}

/** Opens `GET /v1/stream` (path with query); answers the status and, on 200, the first event's `data`. */
async function openStream(base: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status: number; first?: { type: string; sequence: string } }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  try {
    const res = await fetch(`${base}${pathAndQuery}`, { headers, signal: abort.signal });
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      return { status: res.status };
    }
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    let text = '';
    let data: string | undefined;
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    while (data === undefined) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      data = /^data: (.*)$/m.exec(text)?.[1];
    }
    abort.abort();
    return data === undefined ? { status: 200 } : { status: 200, first: JSON.parse(data) as { type: string; sequence: string } };
  } finally {
    clearTimeout(timer);
  }
}

describe('query-string credentials', () => {
  let t: TestServer;
  let logs: CapturedLogs;
  const issued: string[] = [];
  const newTicket = async (headers: Record<string, string> = apiHeaders, query = ''): Promise<Response> => fetch(`${t.url}/v1/stream/tickets${query}`, { method: 'POST', headers });
  const ticket = async (): Promise<Ticket> => {
    const res = await newTicket();
    expect(res.status).toBe(201);
    const body = (await res.json()) as Ticket;
    issued.push(body.ticket);
    return body;
  };

  beforeAll(async () => {
    logs = captureLogs('trace');
    t = await startTestServer({}, { logger: logs.logger });
    expect((await fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(waMessage('stream-auth')) })).status).toBe(200);
  });
  afterAll(async () => t.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes ?access_token= on GET /v1/stream only: 401 on the other routes, whatever the method', async () => {
    const q = `access_token=${API_TOKEN}`;
    const subscribe = await fetch(`${t.url}/v1/subscriptions?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'https://example.com/hook' }) });
    expect(subscribe.status).toBe(401);
    expect(await subscribe.json()).toEqual({ error: { code: 'SB_ERR_AUTH_REQUIRED', message: 'unauthorized' } });
    expect((await fetch(`${t.url}/v1/subscriptions/x?${q}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    expect((await fetch(`${t.url}/v1/subscriptions/x?${q}`, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(`${t.url}/v1/subscriptions?${q}`)).status).toBe(401);
    expect((await fetch(`${t.url}/v1/events?${q}`)).status).toBe(401);
    expect((await fetch(`${t.url}/v1/calls?${q}`)).status).toBe(401);
    expect((await newTicket({}, `?${q}`)).status).toBe(401);

    const stream = await openStream(t.url, `/v1/stream?after=0&${q}`);
    expect(stream.status).toBe(200);
    expect(stream.first?.type).toBe('message.created');
    expect((await openStream(t.url, '/v1/stream?after=0&access_token=wrong-token-0123456789')).status).toBe(401);
    expect((await openStream(t.url, '/v1/stream?after=0')).status).toBe(401);
  });

  it('issues a stream ticket for the API token; it opens one stream, once', async () => {
    expect((await newTicket({})).status).toBe(401);
    expect((await newTicket({ authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);

    const before = Date.now();
    const res = await newTicket();
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const t1 = (await res.json()) as Ticket;
    issued.push(t1.ticket);
    expect(t1.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(t1.ticket).not.toContain(API_TOKEN);
    const expires = Date.parse(t1.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + STREAM_TICKET_TTL_MS - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + STREAM_TICKET_TTL_MS);

    // A ticket is no credential for the rest of /v1, and trying it there does not use it up.
    expect((await fetch(`${t.url}/v1/events?ticket=${t1.ticket}`)).status).toBe(401);
    const first = await openStream(t.url, `/v1/stream?after=0&ticket=${t1.ticket}`);
    expect(first.status).toBe(200);
    expect(first.first?.type).toBe('message.created');
    // Used: the same ticket again is refused (EventSource's own reconnect included).
    expect((await openStream(t.url, `/v1/stream?after=0&ticket=${t1.ticket}`)).status).toBe(401);
    expect((await openStream(t.url, '/v1/stream?after=0&ticket=never-issued-never-issued-never-issued-xx')).status).toBe(401);

    // Two tickets are two different ones.
    const [a, b] = [await ticket(), await ticket()];
    expect(a.ticket).not.toBe(b.ticket);
  });

  it('refuses an expired ticket', async () => {
    const fresh = await ticket();
    const stale = await ticket();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + STREAM_TICKET_TTL_MS - 5_000);
    expect((await openStream(t.url, `/v1/stream?after=0&ticket=${fresh.ticket}`)).status).toBe(200);
    vi.setSystemTime(Date.now() + 10_000);
    expect((await openStream(t.url, `/v1/stream?after=0&ticket=${stale.ticket}`)).status).toBe(401);
  });

  it('never logs the API token or a ticket', async () => {
    // A few more ways to put them in a URL: on a route with no handler, and refused.
    await fetch(`${t.url}/nope?access_token=${API_TOKEN}`);
    await fetch(`${t.url}/v1/stream?access_token=${API_TOKEN}&access_token=${API_TOKEN}`);
    await fetch(`${t.url}/v1/stream?ticket=${issued[0] ?? ''}&ticket=${issued[1] ?? ''}`);
    expect(issued.length).toBeGreaterThan(4);
    const text = logs.text();
    expect(text).not.toContain(API_TOKEN);
    for (const x of issued) expect(text).not.toContain(x);
  });
});

describe('StreamTickets', () => {
  it('holds a bounded number of tickets: past the bound, the oldest goes first', () => {
    expect(MAX_STREAM_TICKETS).toBeGreaterThanOrEqual(100);
    const tickets = new StreamTickets(STREAM_TICKET_TTL_MS, 3);
    const issued = Array.from({ length: 5 }, () => tickets.issue().ticket);
    expect(issued.map((x) => tickets.redeem(x))).toEqual([false, false, true, true, true]);
  });
});

describe('redactCredentials', () => {
  it('keeps access_token and ticket out of Fastify\'s request log lines', async () => {
    const logs = captureLogs('info');
    const app = Fastify({ loggerInstance: redactCredentials(logs.logger), logController: new LogController({ disableRequestLogging: false }) });
    app.get('/v1/stream', async () => 'ok');
    app.get('/elsewhere', async () => 'ok');
    await app.ready();
    await app.inject({ method: 'GET', url: '/v1/stream?after=5&access_token=SECRET-ONE&ticket=SECRET-TWO&access%5Ftoken=SECRET-THREE&type=call.*' });
    await app.inject({ method: 'GET', url: '/elsewhere?ticket=SECRET-FOUR' });
    await app.close();
    const text = logs.text();
    for (const s of ['SECRET-ONE', 'SECRET-TWO', 'SECRET-THREE', 'SECRET-FOUR']) expect(text).not.toContain(s);
    const urls = logs.lines().flatMap((l) => {
      const req = l.req as { url?: string } | undefined;
      return req?.url ? [req.url] : [];
    });
    expect(urls).toContain('/v1/stream?after=5&access_token=[secret]&ticket=[secret]&access%5Ftoken=[secret]&type=call.*');
    expect(urls).toContain('/elsewhere?ticket=[secret]');
  });
});
