/**
 * Issue 17, erasure on request (docs/privacy.md), on both stores: after `POST /v1/erasures` with
 * one phone number, no table of the store holds the number anywhere — events, the quarantine,
 * calls, conversations and their counts, the outbox, the caller-name cache — while another
 * person's events, calls and conversation are intact; the request is recorded with who asked and
 * when, not whom. A bad request is a 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenApiSimulator } from '../src/connectors/greenapi/simulator.js';
import { API_TOKEN, INGEST_TOKEN, apiHeaders, ingestHeaders, startTestServer, waCallFrom, waMessageFrom, type TestServer } from './helpers/sb.js';
import { freePort } from './helpers/process.js';
import { dumpTables } from './helpers/tables.js';
import { waitFor } from './helpers/receiver.js';

const PERSON = '79161234567';
const OTHER = '79002222222';
const message = (id: string, phone: string, text: string) => waMessageFrom(id, phone, text, phone === PERSON ? 'Анна Личная' : 'Other Client');
const call = waCallFrom;

interface ApiEvent {
  id: string;
  type: string;
  subject: string;
}

describe('erasure of one phone number', () => {
  let s: TestServer;
  let sim: GreenApiSimulator;
  const get = async <T>(path: string): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${s.url}${path}`, { headers: apiHeaders });
    return { status: res.status, json: (await res.json()) as T };
  };
  const post = async <T>(path: string, body: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: { ...apiHeaders, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as T };
  };
  const ingest = async (body: unknown) => (await fetch(`${s.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: typeof body === 'string' ? body : JSON.stringify(body) })).status;
  const eventsOf = async (phone: string) => {
    const all = (await get<{ events: (ApiEvent & Record<string, unknown>)[] }>('/v1/events?limit=1000')).json.events;
    return all.filter((e) => JSON.stringify(e).includes(phone));
  };

  beforeAll(async () => {
    sim = new GreenApiSimulator({
      instances: [{ idInstance: '1101', apiTokenInstance: 'erasure-sim-token', wid: '79990000000@c.us' }],
      contacts: { [`${PERSON}@c.us`]: { name: 'Анна Личная', contactName: 'Анна' }, [`${OTHER}@c.us`]: { name: 'Other Client' } },
      limits: { contactInfoIntervalMs: 0 },
    });
    const apiUrl = await sim.start();
    s = await startTestServer({
      connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN, polling: { apiUrl, idInstance: '1101', apiTokenInstance: 'erasure-sim-token', receiveTimeout: 5 } }],
      subscriptions: [{ id: 'hook', url: `http://127.0.0.1:${await freePort()}/hook` }],
      delivery: { allowPrivateTargets: true, retrySchedule: ['1h'] },
      server: { apiToken: API_TOKEN },
    });
  });
  afterAll(async () => {
    await s?.close();
    await sim?.close();
  });

  it('leaves no trace of the number in any table, keeps everyone else, and records who asked', async () => {
    expect(await ingest([message('P-1', PERSON, 'my address is Lenina 1'), call('P-CALL', PERSON, 'offer'), call('P-CALL', PERSON, 'pickUp'), message('P-2', PERSON, 'thanks')])).toBe(200);
    expect(await ingest([message('O-1', OTHER, 'hello'), call('O-CALL', OTHER, 'offer'), call('O-CALL', OTHER, 'hangUp')])).toBe(200);
    expect(await ingest(`{"typeWebhook":"incomingMessageReceived","senderData":{"chatId":"${PERSON}@c.us"},"text":"broken`)).toBe(400);
    // The caller names of both, looked up with getContactInfo: contact.updated events and the cache.
    await waitFor(async () => (await get<{ events: ApiEvent[] }>('/v1/events?type=contact.updated')).json.events.length === 2, 10_000);

    const dump0 = (await dumpTables(s.store)).join('\n');
    for (const where of ['events:', 'quarantine:', 'calls:', 'conversations:', 'conversation_counts:', 'delivery_outbox:', 'connector_kv:']) {
      expect(dump0.split('\n').some((l) => l.startsWith(where) && l.includes(PERSON.slice(1))), `${where} names the person before`).toBe(true);
    }
    const other0 = await eventsOf(OTHER);
    const otherCalls0 = (await get<{ calls: { id: string }[] }>(`/v1/calls?party=${OTHER}@c.us`)).json.calls;
    const otherConversation0 = await get<unknown>(`/v1/conversations/wa:${OTHER}@c.us`);
    expect(other0.length).toBeGreaterThanOrEqual(4);
    expect(otherCalls0).toHaveLength(1);
    expect(otherConversation0.status).toBe(200);

    const answer = await post<{ id: string; status: string; kind: string; requestedBy: string; counts: Record<string, number>; outOfReach: string }>('/v1/erasures', {
      phone: '+7 (916) 123-45-67',
      requestedBy: 'DPO, ticket 42',
      reason: 'request of the data subject',
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ status: 'done', kind: 'phone', requestedBy: 'DPO, ticket 42' });
    expect(answer.json.counts.events).toBeGreaterThanOrEqual(5); // two messages, the call's events, the contact
    expect(answer.json.counts.quarantine).toBe(1);
    expect(answer.json.counts.projections).toBeGreaterThanOrEqual(2); // the call, the conversation
    expect(answer.json.counts.kv).toBe(1);
    expect(answer.json.counts.deliveries).toBe(answer.json.counts.events);
    expect(answer.json.outOfReach).toMatch(/NATS/);
    expect(answer.json.outOfReach).toMatch(/webhooks already delivered/);

    // No table holds the number, in any form that has its digits (the country code left out).
    const dump = await dumpTables(s.store);
    expect(dump.filter((l) => l.includes(PERSON.slice(1)))).toEqual([]);
    expect(dump.filter((l) => l.includes('Анна Личная') || l.includes('Lenina'))).toEqual([]);
    // The record names who asked, not whom.
    expect(dump.filter((l) => l.startsWith('erasures:'))).toHaveLength(1);

    // Everyone else is intact.
    expect(await eventsOf(OTHER)).toEqual(other0);
    expect((await get<{ calls: { id: string }[] }>(`/v1/calls?party=${OTHER}@c.us`)).json.calls).toEqual(otherCalls0);
    expect(await get<unknown>(`/v1/conversations/wa:${OTHER}@c.us`)).toEqual(otherConversation0);
    expect(await eventsOf(PERSON.slice(1))).toEqual([]);

    const listed = (await get<{ erasures: { id: string; requestedBy: string; reason: string; status: string }[] }>('/v1/erasures')).json.erasures;
    expect(listed).toEqual([expect.objectContaining({ id: answer.json.id, requestedBy: 'DPO, ticket 42', reason: 'request of the data subject', status: 'done' })]);
    expect((await get(`/v1/erasures/${answer.json.id}`)).status).toBe(200);
  });

  it('answers 400 naming what is wrong, and records nothing', async () => {
    const before = (await get<{ erasures: unknown[] }>('/v1/erasures')).json.erasures.length;
    const cases: [unknown, RegExp][] = [
      [{ requestedBy: 'x' }, /exactly one of phone, userId, contactId, found none/],
      [{ phone: PERSON, contactId: `${PERSON}@c.us`, requestedBy: 'x' }, /found phone and contactId/],
      [{ phone: '12-34', requestedBy: 'x' }, /at phone: expected a phone number: 7 to 15 digits/],
      [{ phone: PERSON }, /requestedBy/],
      [{ phone: PERSON, requestedBy: 'x', name: 'extra' }, /name/],
    ];
    for (const [body, message] of cases) {
      const r = await post<{ error: { code: string; message: string } }>('/v1/erasures', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe('SB_ERR_ERASURE_INVALID');
      expect(r.json.error.message).toMatch(message);
    }
    expect((await get<{ erasures: unknown[] }>('/v1/erasures')).json.erasures).toHaveLength(before);
  });
});
