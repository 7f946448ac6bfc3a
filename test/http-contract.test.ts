/**
 * The HTTP answers keep the contract of docs/errors.md: an empty body is `SB_ERR_INGEST_EMPTY`
 * (not kept in the quarantine).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/core/index.js';
import { apiHeaders, ingestHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';

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
});
