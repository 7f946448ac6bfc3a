/**
 * Quarantine retry and discard (issue 19): a payload refused by the config (over
 * `server.limits.maxDepth`) is re-ingested after the limit is raised and the server restarted;
 * the entry records the retry with its counts and stays listed; what is still refused stays open
 * and is not quarantined again; a discard is recorded too; neither happens twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createSwitchboard, type Switchboard } from '../src/index.js';
import { testStoreFor } from './helpers/postgres.js';
import { API_TOKEN, INGEST_TOKEN, waMessage } from './helpers/sb.js';

interface Entry {
  id: string;
  code: string;
  reason: string;
  resolution?: { action: string; at: string; result?: Record<string, number> };
}

describe('quarantine retry and discard', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-quarantine-retry-'));
  let sb: Switchboard | undefined;
  const store = testStoreFor(dir, join(dir, 'sb.db')); // SQLite, or a PostgreSQL database (SWITCHBOARD_TEST_STORE)
  afterAll(async () => {
    await sb?.close();
    await (await store).release();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (maxDepth: number) => {
    await sb?.close();
    sb = createSwitchboard(
      { server: { port: 0, apiToken: API_TOKEN, limits: { maxDepth } }, store: (await store).store, connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN }], dataDir: dir },
      { logger: pino({ level: 'silent' }), processMetrics: false, env: {} },
    );
    await sb.start();
    return sb.url ?? '';
  };
  const api = async <T>(url: string, path: string, method = 'GET') => {
    const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${API_TOKEN}` } });
    return { status: res.status, body: (await res.json()) as T };
  };
  let n = 0;
  const deep = (idMessage = `NESTED-${++n}`) => ({ ...waMessage('nested', idMessage), extra: { a: { b: { c: { d: 1 } } } } });

  it('retries after a config fix, records it on the entry, and refuses a second retry', async () => {
    let url = await start(4);
    const ingest = (body: string) => fetch(`${url}/ingest/wa`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' }, body });
    const nestedId = `NESTED-${Date.now()}`;
    expect((await ingest(JSON.stringify(deep(nestedId)))).status).toBe(400);
    expect((await ingest(JSON.stringify(deep()))).status).toBe(400);
    expect((await ingest('{"typeWebhook": ')).status).toBe(400);
    const listed = (await api<{ items: Entry[] }>(url, '/v1/quarantine')).body.items;
    expect(listed.map((e) => e.code)).toEqual(['SB_ERR_INGEST_LIMIT', 'SB_ERR_INGEST_LIMIT', 'SB_ERR_INGEST_MALFORMED']);
    const [first, second, malformed] = listed as [Entry, Entry, Entry];

    // Before the fix it is still refused: nothing stored, nothing quarantined again, still open.
    const early = await api<{ error: { code: string; message: string } }>(url, `/v1/quarantine/${first.id}/retry`, 'POST');
    expect(early.status).toBe(400);
    expect(early.body.error.message).toMatch(new RegExp(`quarantine entry ${first.id} is still refused \\(SB_ERR_INGEST_LIMIT\\)`));
    expect((await api<{ items: Entry[] }>(url, '/v1/quarantine')).body.items).toHaveLength(3);

    // The fix: a higher nesting limit, and a restart.
    url = await start(64);
    const retried = await api<{ entry: Entry; result: { accepted: number; events: number } }>(url, `/v1/quarantine/${first.id}/retry`, 'POST');
    expect(retried.status).toBe(200);
    expect(retried.body.result).toMatchObject({ accepted: 1, events: 1 });
    expect(retried.body.entry.resolution).toMatchObject({ action: 'retried', result: { accepted: 1, duplicates: 0, events: 1, rejected: 0 } });
    const events = (await api<{ events: { type: string; data: { native: { idMessage: string } } }[] }>(url, '/v1/events')).body.events;
    expect(events.map((e) => [e.type, e.data.native.idMessage])).toEqual([['message.created', nestedId]]);
    const again = await api<{ error: { code: string } }>(url, `/v1/quarantine/${first.id}/retry`, 'POST');
    expect([again.status, again.body.error.code]).toEqual([409, 'SB_ERR_QUARANTINE_RESOLVED']);

    // Discarded: recorded, listed, not retried afterwards.
    const discarded = await api<Entry>(url, `/v1/quarantine/${second.id}/discard`, 'POST');
    expect(discarded.body.resolution).toMatchObject({ action: 'discarded' });
    expect((await api(url, `/v1/quarantine/${second.id}/retry`, 'POST')).status).toBe(409);

    // Malformed JSON stays malformed.
    const bad = await api<{ error: { message: string } }>(url, `/v1/quarantine/${malformed.id}/retry`, 'POST');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/still refused \(SB_ERR_INGEST_MALFORMED\)/);

    const status = async (s: string) => (await api<{ items: Entry[] }>(url, `/v1/quarantine?status=${s}`)).body.items.map((e) => e.id);
    expect([await status('open'), await status('retried'), await status('discarded')]).toEqual([[malformed.id], [first.id], [second.id]]);
    expect((await api(url, '/v1/quarantine/999999/retry', 'POST')).status).toBe(404);
    expect((await api(url, '/v1/quarantine/abc/discard', 'POST')).status).toBe(404);
  });
});
