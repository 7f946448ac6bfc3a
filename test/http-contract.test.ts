/**
 * The HTTP answers keep the contract of docs/errors.md: an empty body is `SB_ERR_INGEST_EMPTY`
 * (not kept in the quarantine), a repeated query credential is a 400 naming it, and the errors
 * Fastify raises itself come in Switchboard's error shape with a code of the catalogue.
 */
import { errorCodes } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/core/index.js';
import { toHttpAnswer } from '../src/server/http/errors.js';
import { API_TOKEN, apiHeaders, ingestHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';

interface ErrorBody {
  error: { code: string; message: string } & Record<string, unknown>;
}

/** The body is `{ error: { code, message, … } }` with a catalogue code and its status. */
async function expectError(res: Response, status: number, code: string): Promise<ErrorBody['error']> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatchObject({ code, message: expect.any(String) });
  expect(ERROR_CODES[code as keyof typeof ERROR_CODES]?.status).toBe(status);
  return body.error;
}

describe('HTTP contract', () => {
  let t: TestServer;
  const post = (body: string, contentType = 'application/json', connector = 'wa') => fetch(`${t.url}/ingest/${connector}`, { method: 'POST', headers: ingestHeaders(contentType), body });
  const quarantined = async () => ((await (await fetch(`${t.url}/v1/quarantine?connector=wa&limit=1000`, { headers: apiHeaders })).json()) as { items: unknown[] }).items.length;

  beforeAll(async () => {
    t = await startTestServer({ server: { bodyLimit: 4096 } });
  });
  afterAll(async () => t.close());

  it('answers a body with no payload ([], blank NDJSON, an empty body) with 400 SB_ERR_INGEST_EMPTY, not kept in the quarantine', async () => {
    const before = await quarantined();
    for (const [body, type] of [['[]', 'application/json'], [' [ ] ', 'application/json'], ['\n  \n\n', 'application/x-ndjson'], ['', 'application/x-ndjson'], ['', 'application/json'], ['  \n', 'application/json']] as const) {
      const e = await expectError(await post(body, type), 400, 'SB_ERR_INGEST_EMPTY');
      expect(e.message).toBe('the body holds no payload');
      expect(e.quarantineId).toBeUndefined();
    }
    expect(await quarantined()).toBe(before);
    // Malformed input is still MALFORMED, and kept.
    await expectError(await post('[', 'application/json'), 400, 'SB_ERR_INGEST_MALFORMED');
    expect(await quarantined()).toBe(before + 1);
    expect((await post(JSON.stringify([waMessage('after-empty')]))).status).toBe(200);
  });

  it('answers a repeated access_token or ticket with 400 naming the parameter, never 500', async () => {
    const twice = await expectError(await fetch(`${t.url}/v1/stream?access_token=${API_TOKEN}&access_token=${API_TOKEN}`), 400, 'SB_ERR_QUERY_INVALID');
    expect(twice.message).toContain('access_token');
    expect(twice.message).not.toContain(API_TOKEN);
    const tickets = await expectError(await fetch(`${t.url}/v1/stream?ticket=a&ticket=b`), 400, 'SB_ERR_QUERY_INVALID');
    expect(tickets.message).toContain('ticket');
    // Elsewhere a query token is no credential at all: 401, as without one.
    await expectError(await fetch(`${t.url}/v1/events?access_token=a&access_token=b`), 401, 'SB_ERR_AUTH_REQUIRED');
    // With the header, a repeated one is still a 400 naming it.
    const withHeader = await expectError(await fetch(`${t.url}/v1/stream?access_token=a&access_token=b`, { headers: apiHeaders }), 400, 'SB_ERR_QUERY_INVALID');
    expect(withHeader.message).toContain('access_token');
  });

  it('answers a 200-character connector id with 404 SB_ERR_INGEST_UNKNOWN_CONNECTOR in the Switchboard shape', async () => {
    const e = await expectError(await post(JSON.stringify(waMessage()), 'application/json', 'x'.repeat(200)), 404, 'SB_ERR_INGEST_UNKNOWN_CONNECTOR');
    expect(e.message).not.toContain('x'.repeat(65));
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_ingest_refused_total\{connector="\(unknown\)",reason="unknown-connector"\} [1-9]/);
  });

  it('answers the errors Fastify raises itself in the Switchboard shape with the right status', async () => {
    // A path parameter over Fastify's length limit on /v1: no such resource.
    await expectError(await fetch(`${t.url}/v1/events/${'e'.repeat(200)}`, { headers: apiHeaders }), 404, 'SB_ERR_NOT_FOUND');
    // A malformed percent-encoding in the path.
    await expectError(await fetch(`${t.url}/v1/events/%zz`, { headers: apiHeaders }), 400, 'SB_ERR_REQUEST_INVALID');
    await expectError(await fetch(`${t.url}/ingest/%zz`, { method: 'POST', headers: ingestHeaders(), body: '{}' }), 400, 'SB_ERR_REQUEST_INVALID');
    // /v1 bodies: not JSON, a content type no route takes, over the size limit.
    const sub = (body: string, contentType: string) => fetch(`${t.url}/v1/subscriptions`, { method: 'POST', headers: { ...apiHeaders, 'content-type': contentType }, body });
    await expectError(await sub('{bad', 'application/json'), 400, 'SB_ERR_SUBSCRIPTION_INVALID');
    await expectError(await sub('<x/>', 'application/xml'), 415, 'SB_ERR_REQUEST_CONTENT_TYPE');
    await expectError(await sub(JSON.stringify({ url: 'https://example.com/'.padEnd(5000, 'x') }), 'application/json'), 413, 'SB_ERR_REQUEST_TOO_LARGE');
    // On /ingest, the size limit keeps its own code (a refusal, counted).
    await expectError(await post(JSON.stringify([waMessage('x'.repeat(5000))])), 413, 'SB_ERR_INGEST_TOO_LARGE');
    // No route.
    await expectError(await fetch(`${t.url}/v2/events`), 404, 'SB_ERR_NOT_FOUND');
    await expectError(await fetch(`${t.url}/ingest/wa`, { method: 'PUT', headers: ingestHeaders(), body: '{}' }), 404, 'SB_ERR_NOT_FOUND');
  });

  it('maps every client error Fastify defines to a catalogue code with that code\'s status', () => {
    const defined = Object.entries(errorCodes).map(([name, E]) => [name, new E('a', 'b')] as const);
    const clientErrors = defined.filter(([, e]) => typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500);
    expect(clientErrors.map(([name]) => name)).toEqual(expect.arrayContaining(['FST_ERR_BAD_URL', 'FST_ERR_MAX_PARAM_LENGTH', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_BODY_TOO_LARGE', 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'FST_ERR_NOT_FOUND']));
    for (const [name, err] of clientErrors) {
      for (const url of ['/v1/subscriptions', '/ingest/wa']) {
        const a = toHttpAnswer(err, url);
        expect(a.body.error.code, `${name} on ${url}`).not.toBe('SB_ERR_INTERNAL');
        expect(a.status, `${name} on ${url}`).toBe(ERROR_CODES[a.body.error.code].status);
      }
    }
    // Bad JSON outside /ingest is not "kept in the quarantine" (what SB_ERR_INGEST_MALFORMED promises).
    expect(toHttpAnswer(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), '/v1/stream/tickets').body.error.code).toBe('SB_ERR_REQUEST_INVALID');
  });
});
