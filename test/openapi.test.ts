/**
 * The OpenAPI 3.1 document (issue 18): generated from the schemas the routes declare (which also
 * validate their requests), served at /openapi.json, committed as docs/openapi.json and kept in
 * step; valid by a standard validator; and true: real answers of a server that has stored a call
 * and a chat validate against the response schemas the document gives.
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHeaders, ingestHeaders, startTestServer, waCall, waMessage, type TestServer } from './helpers/sb.js';

type Json = Record<string, unknown>;
const committed = JSON.parse(readFileSync(new URL('../docs/openapi.json', import.meta.url), 'utf8')) as Json;

describe('OpenAPI', () => {
  let t: TestServer;
  let served: Json;

  beforeAll(async () => {
    t = await startTestServer({ delivery: { allowPrivateTargets: true } });
    const res = await fetch(`${t.url}/openapi.json`);
    expect(res.status).toBe(200);
    served = (await res.json()) as Json;
  });
  afterAll(async () => t.close());

  it('is served at /openapi.json without a token, and docs/openapi.json is the same document (`npm run openapi` writes it)', () => {
    expect(served.openapi).toBe('3.1.0');
    expect(served).toEqual(committed);
  });

  it('is a valid OpenAPI 3.1 document by @seriousme/openapi-schema-validator', async () => {
    const result = await new Validator().validate(committed);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every route of the API with its method, and declares how each is authorized', () => {
    const paths = committed.paths as Record<string, Record<string, { security?: unknown[] }>>;
    const ops = Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const op of [
      'POST /ingest/{connectorId}',
      'GET /v1/events',
      'GET /v1/events/{id}',
      'GET /v1/stream',
      'POST /v1/stream/tickets',
      'GET /v1/calls',
      'GET /v1/calls/{id}',
      'GET /v1/conversations',
      'GET /v1/conversations/{id}',
      'GET /v1/conversations/{id}/timeline',
      'GET /v1/operators',
      'GET /v1/quarantine',
      'GET /v1/connectors',
      'GET /v1/schemas',
      'GET /v1/schemas/{type}',
      'GET /v1/subscriptions',
      'POST /v1/subscriptions',
      'GET /v1/subscriptions/{id}',
      'PATCH /v1/subscriptions/{id}',
      'DELETE /v1/subscriptions/{id}',
      'POST /v1/subscriptions/{id}/secret/rotate',
      'GET /v1/subscriptions/{id}/deliveries',
      'POST /v1/subscriptions/{id}/replay',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
    ]) {
      expect(ops, op).toContain(op);
    }
    expect(committed.security).toEqual([{ apiToken: [] }]);
    expect(paths['/ingest/{connectorId}']?.post?.security).toEqual([{ ingestToken: [] }]);
    expect(paths['/healthz']?.get?.security).toEqual([]);
    expect(Object.keys(paths)).not.toContain('/openapi.json');
  });

  it('gives the query parameters, path parameters and bodies the routes validate', () => {
    const paths = committed.paths as Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, unknown> } }>>;
    const names = (path: string, method = 'get') => (paths[path]?.[method]?.parameters ?? []).map((p) => `${p.in}:${p.name}`);
    expect(names('/v1/events')).toEqual(expect.arrayContaining(['query:type', 'query:platform', 'query:subject', 'query:connector', 'query:after', 'query:before', 'query:order', 'query:limit']));
    expect(names('/v1/calls')).toEqual(expect.arrayContaining(['query:outcome', 'query:from', 'query:to', 'query:party', 'query:conversation']));
    expect(names('/v1/stream')).toEqual(expect.arrayContaining(['query:after', 'query:ticket', 'header:last-event-id']));
    expect(names('/v1/calls/{id}')).toEqual(['path:id']);
    expect(Object.keys(paths['/v1/subscriptions']?.post?.requestBody?.content ?? {})).toEqual(['application/json']);
    expect(Object.keys(paths['/ingest/{connectorId}']?.post?.requestBody?.content ?? {}).sort()).toEqual(['application/json', 'application/x-ndjson', 'application/xml', 'text/xml']);
  });

  it('answers as it says: real answers validate against their response schemas', async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'doc', components: committed.components }, 'doc');
    const paths = committed.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
    const check = async (method: string, path: string, url: string, init: RequestInit = {}) => {
      const res = await fetch(`${t.url}${url}`, { ...init, method: method.toUpperCase(), headers: { ...apiHeaders, ...(init.headers as Record<string, string> | undefined) } });
      const status = String(res.status);
      const responses = paths[path]?.[method]?.responses ?? {};
      const response = responses[status] ?? responses.default;
      const schema = response?.content?.['application/json']?.schema;
      expect(schema, `${method} ${url} ${status}: a response in the document`).toBeDefined();
      const body = (await res.json()) as unknown;
      // Local `$ref`s point into the document: resolve them against the added schema.
      const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as object);
      expect(validate(body) ? [] : validate.errors, `${method} ${url} ${status}`).toEqual([]);
      return { status: res.status, body: body as Json };
    };

    const post = (payload: unknown) => fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(payload) });
    expect((await post(waCall('OA-CALL-1', 'offer'))).status).toBe(200);
    expect((await post(waCall('OA-CALL-1', 'missed'))).status).toBe(200);
    expect((await post(waMessage('openapi'))).status).toBe(200);
    const refused = await check('post', '/ingest/{connectorId}', '/ingest/wa', { body: '{"typeWebhook":', headers: ingestHeaders() });
    expect(refused.status).toBe(400);

    const events = await check('get', '/v1/events', '/v1/events?limit=2');
    const first = (events.body.events as Json[])[0] as Json;
    await check('get', '/v1/events/{id}', `/v1/events/${String(first.id)}`);
    await check('get', '/v1/events/{id}', '/v1/events/nope');
    await check('get', '/v1/events', '/v1/events?limit=abc');
    const calls = await check('get', '/v1/calls', '/v1/calls');
    const call = (calls.body.calls as Json[])[0] as Json;
    expect(call.outcome).toBe('missed');
    await check('get', '/v1/calls/{id}', `/v1/calls/${encodeURIComponent(String(call.id))}`);
    const conversations = await check('get', '/v1/conversations', '/v1/conversations');
    const conversation = (conversations.body.conversations as Json[])[0] as Json;
    await check('get', '/v1/conversations/{id}', `/v1/conversations/${encodeURIComponent(String(conversation.id))}`);
    const timeline = await check('get', '/v1/conversations/{id}/timeline', `/v1/conversations/${encodeURIComponent(String(conversation.id))}/timeline`);
    expect((timeline.body.entries as Json[]).map((e) => e.kind)).toEqual(expect.arrayContaining(['message', 'call-record']));
    await check('get', '/v1/operators', '/v1/operators');
    await check('get', '/v1/quarantine', '/v1/quarantine');
    await check('get', '/v1/connectors', '/v1/connectors');
    await check('get', '/v1/schemas', '/v1/schemas');
    await check('get', '/v1/schemas/{type}', '/v1/schemas/call.ended');
    await check('post', '/v1/stream/tickets', '/v1/stream/tickets');
    await check('get', '/readyz', '/readyz');

    const json = { 'content-type': 'application/json' };
    const created = await check('post', '/v1/subscriptions', '/v1/subscriptions', { headers: json, body: JSON.stringify({ id: 'oa', url: 'http://127.0.0.1:9/hook', enabled: false }) });
    expect(created.status).toBe(201);
    await check('post', '/v1/subscriptions', '/v1/subscriptions', { headers: json, body: JSON.stringify({ url: 42 }) });
    await check('get', '/v1/subscriptions', '/v1/subscriptions');
    await check('patch', '/v1/subscriptions/{id}', '/v1/subscriptions/oa', { headers: json, body: JSON.stringify({ description: 'OpenAPI test' }) });
    await check('post', '/v1/subscriptions/{id}/secret/rotate', '/v1/subscriptions/oa/secret/rotate', { headers: json, body: '{}' });
    await check('post', '/v1/subscriptions/{id}/replay', '/v1/subscriptions/oa/replay', { headers: json, body: JSON.stringify({ fromSequence: 1 }) });
    await check('get', '/v1/subscriptions/{id}/deliveries', '/v1/subscriptions/oa/deliveries');
  });
});
