/**
 * The dashboard's session (issue 19): `POST /v1/sessions` trades the API token for a cookie the
 * page's scripts cannot read (HttpOnly, SameSite=Strict), which then authorizes `/v1` — reads,
 * the live stream without a ticket, and changes only from a page of this server (Origin) — until
 * `DELETE /v1/sessions` forgets it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, apiHeaders, startTestServer, type TestServer } from './helpers/sb.js';

describe('dashboard sessions', () => {
  let t: TestServer;
  let cookie = '';
  beforeAll(async () => {
    t = await startTestServer({ delivery: { allowPrivateTargets: true } });
  });
  afterAll(async () => t.close());

  const withCookie = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}, value = cookie) => fetch(`${t.url}${path}`, { ...init, headers: { cookie: value, ...init.headers } });

  it('gives a session only for the API token, as an HttpOnly, SameSite=Strict cookie for 12 hours', async () => {
    expect((await fetch(`${t.url}/v1/sessions`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${t.url}/v1/sessions`, { method: 'POST', headers: { authorization: 'Bearer wrong-token-0000' } })).status).toBe(401);
    const res = await fetch(`${t.url}/v1/sessions`, { method: 'POST', headers: apiHeaders });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^sb_session=[A-Za-z0-9_-]{43};/);
    expect(set.split('; ').slice(1).sort()).toEqual(['HttpOnly', 'Max-Age=43200', 'Path=/', 'SameSite=Strict']);
    expect(set).not.toContain(API_TOKEN);
    const { expiresAt } = (await res.json()) as { expiresAt: string };
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(11.9 * 3_600_000);
    cookie = set.split(';')[0] ?? '';
  });

  it('authorizes reads and the live stream by the cookie alone; a wrong cookie is refused', async () => {
    expect((await withCookie('/v1/events')).status).toBe(200);
    expect((await withCookie('/v1/events', {}, 'sb_session=forged')).status).toBe(401);
    const abort = new AbortController();
    const stream = await withCookie('/v1/stream', { signal: abort.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    abort.abort();
    await stream.body?.cancel().catch(() => undefined);
  });

  it('takes a change with the cookie only from a page of this server (Origin), never from another site', async () => {
    const body = JSON.stringify({ id: 'from-page', url: 'http://127.0.0.1:9/hook', enabled: false });
    const json = { 'content-type': 'application/json' };
    expect((await withCookie('/v1/subscriptions', { method: 'POST', headers: { ...json, origin: 'https://evil.example' }, body })).status).toBe(401);
    expect((await withCookie('/v1/subscriptions', { method: 'POST', headers: json, body })).status).toBe(401);
    const own = await withCookie('/v1/subscriptions', { method: 'POST', headers: { ...json, origin: t.url }, body });
    expect(own.status).toBe(201);
  });

  it('logs out: the session is forgotten and the cookie cleared', async () => {
    const res = await withCookie('/v1/sessions', { method: 'DELETE', headers: { origin: t.url } });
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toMatch(/^sb_session=;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)/);
    expect((await withCookie('/v1/events')).status).toBe(401);
  });

  it('does not take the session cookie for ingest, which keeps its own token', async () => {
    const res = await fetch(`${t.url}/v1/sessions`, { method: 'POST', headers: apiHeaders });
    const fresh = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const ingest = await fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: { cookie: fresh, 'content-type': 'application/json' }, body: '{}' });
    expect(ingest.status).toBe(401);
  });
});
