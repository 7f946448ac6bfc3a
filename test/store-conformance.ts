/**
 * The store conformance suite: every Store implementation runs it by passing a factory.
 * `reopen` must give a new store on the same underlying data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeGreenApi } from '../src/connectors/greenapi/normalize.js';
import { normalizeTwin } from '../src/connectors/twin/normalize.js';
import { createEvent, type EventType, type SwitchboardEvent } from '../src/core/index.js';
import type { CommitBatch, StatsCounters, Store } from '../src/server/store/types.js';

export interface StoreHarness {
  store: Store;
  reopen(): Promise<Store>;
  cleanup(): Promise<void>;
}

let n = 0;
export function ev(type: EventType = 'native.unmapped', subject = `native/x${++n}`, identity = `id-${++n}`, connectorId = 'c1'): SwitchboardEvent {
  return createEvent({
    type: 'native.unmapped',
    platform: 'greenapi',
    connectorId,
    identity: `${type}|${identity}`,
    subject,
    time: '2026-01-01T00:00:00Z',
    nativetype: type,
    data: { reason: 'test', native: { identity } },
  });
}

/** A `call.ringing` event, or with `ended` a `call.ended` one, of the call `subject`. */
function callEvent(subject: string, ended = false): SwitchboardEvent {
  const base = { platform: 'greenapi', connectorId: 'c1', identity: `call-${++n}`, subject, time: '2026-01-01T00:00:00Z', nativetype: 'incomingCall' } as const;
  return ended
    ? createEvent({ ...base, type: 'call.ended', data: { callId: subject, outcome: 'missed', reason: 'timeout', native: null } })
    : createEvent({ ...base, type: 'call.ringing', data: { callId: subject, native: null } });
}

function batch(events: SwitchboardEvent[], extra: Partial<CommitBatch> = {}): CommitBatch {
  return { connectorId: 'c1', receivedAt: '2026-01-01T00:00:01.000Z', events, quarantine: [], ...extra };
}

export function storeConformance(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`Store conformance: ${name}`, () => {
    let h: StoreHarness | undefined;
    const open = async () => {
      h = await factory();
      await h.store.open();
      return h.store;
    };
    afterEach(async () => {
      await h?.cleanup();
      h = undefined;
    });

    it('assigns strictly increasing sequences and returns the JSON with `sequence`', async () => {
      const store = await open();
      const events = [ev(), ev(), ev()];
      const [r] = await store.commit([batch(events)]);
      const seqs = r?.stored.map((s) => s?.seq ?? -1) ?? [];
      expect(seqs).toHaveLength(3);
      expect(seqs[0]).toBeGreaterThan(0);
      expect(seqs[1]).toBeGreaterThan(seqs[0] as number);
      expect(seqs[2]).toBeGreaterThan(seqs[1] as number);
      const parsed = JSON.parse(r?.stored[0]?.json ?? '{}') as Record<string, unknown>;
      expect(parsed.id).toBe(events[0]?.id);
      expect(parsed.sequence).toMatch(/^\d{16}$/);
      expect(Number(parsed.sequence)).toBe(seqs[0]);
      expect(await store.latestSequence()).toBe(seqs[2]);
    });

    it('skips an id already stored, in a later commit and within one group', async () => {
      const store = await open();
      const a = ev();
      const [first] = await store.commit([batch([a])]);
      expect(first?.stored[0]).toBeDefined();
      const [again] = await store.commit([batch([a])]);
      expect(again?.stored[0]).toBeUndefined();
      const b = ev();
      const group = await store.commit([batch([b]), batch([b, ev()])]);
      expect(group[0]?.stored[0]).toBeDefined();
      expect(group[1]?.stored[0]).toBeUndefined();
      expect(group[1]?.stored[1]).toBeDefined();
      expect((await store.queryEvents({ limit: 100 })).length).toBe(3);
    });

    it('queries by type (exact and glob), platform, subject (exact and prefix), after and limit, in order', async () => {
      const store = await open();
      await store.commit([batch([callEvent('call/1'), ev('native.unmapped', 'native/a'), callEvent('call/2', true), ev('native.unmapped', 'native/b')])]);
      const all = await store.queryEvents({ limit: 100 });
      expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((x, y) => x - y));
      expect((await store.queryEvents({ types: ['call.ringing'], limit: 100 })).map((e) => JSON.parse(e.json).subject)).toEqual(['call/1']);
      expect((await store.queryEvents({ types: ['call.ended'], limit: 100 })).map((e) => JSON.parse(e.json).subject)).toEqual(['call/2']);
      expect((await store.queryEvents({ types: ['call.*'], limit: 100 })).length).toBe(2);
      expect((await store.queryEvents({ types: ['call.ringing', 'native.unmapped'], limit: 100 })).length).toBe(3);
      expect((await store.queryEvents({ types: ['call.*', 'native.unmapped'], limit: 100 })).length).toBe(4);
      expect((await store.queryEvents({ types: ['message.*'], limit: 100 })).length).toBe(0);
      expect((await store.queryEvents({ platform: 'greenapi', limit: 100 })).length).toBe(4);
      expect((await store.queryEvents({ platform: 'twin', limit: 100 })).length).toBe(0);
      expect((await store.queryEvents({ subject: 'call/2', limit: 100 })).map((e) => JSON.parse(e.json).subject)).toEqual(['call/2']);
      expect((await store.queryEvents({ subject: 'call/*', limit: 100 })).length).toBe(2);
      expect((await store.queryEvents({ subject: 'native/*', limit: 100 })).length).toBe(2);
      const second = all[1]?.seq as number;
      expect((await store.queryEvents({ after: second, limit: 100 })).map((e) => e.seq)).toEqual(all.slice(2).map((e) => e.seq));
      expect((await store.queryEvents({ limit: 2 })).length).toBe(2);
      expect((await store.queryEvents({ connectorId: 'c1', limit: 100 })).length).toBe(4);
      expect((await store.queryEvents({ connectorId: 'other', limit: 100 })).length).toBe(0);
    });

    it('queries newest first and before a sequence, with the same filters', async () => {
      const store = await open();
      await store.commit([batch([callEvent('call/1'), ev('native.unmapped', 'native/a'), callEvent('call/2'), ev('native.unmapped', 'native/b'), callEvent('call/3', true)])]);
      const all = (await store.queryEvents({ limit: 100 })).map((e) => e.seq);
      expect((await store.queryEvents({ newestFirst: true, limit: 2 })).map((e) => e.seq)).toEqual([all[4], all[3]]);
      expect((await store.queryEvents({ newestFirst: true, before: all[3], limit: 2 })).map((e) => e.seq)).toEqual([all[2], all[1]]);
      expect((await store.queryEvents({ before: all[3], limit: 100 })).map((e) => e.seq)).toEqual(all.slice(0, 3));
      expect((await store.queryEvents({ after: all[0], before: all[4], limit: 100 })).map((e) => e.seq)).toEqual(all.slice(1, 4));
      const calls = await store.queryEvents({ types: ['call.*'], newestFirst: true, limit: 2 });
      expect(calls.map((e) => JSON.parse(e.json).subject)).toEqual(['call/3', 'call/2']);
    });

    it('finds an event by id', async () => {
      const store = await open();
      const a = ev();
      await store.commit([batch([a])]);
      expect(JSON.parse((await store.getEvent(a.id))?.json ?? '{}').id).toBe(a.id);
      expect(await store.getEvent('nope')).toBeUndefined();
    });

    it('keeps quarantined input with its reason and lists it by connector, after and limit', async () => {
      const store = await open();
      const q = (connectorId: string, raw: string) => ({ connectorId, receivedAt: '2026-01-01T00:00:00.000Z', code: 'SB_ERR_INGEST_MALFORMED', reason: `bad ${raw}`, contentType: 'application/json', raw });
      const [r] = await store.commit([batch([], { quarantine: [q('c1', '{x'), q('c2', '{y'), q('c1', '{z')] })]);
      expect(r?.quarantineIds).toHaveLength(3);
      const all = await store.listQuarantine({ limit: 10 });
      expect(all.map((e) => e.raw)).toEqual(['{x', '{y', '{z']);
      expect(all[0]?.reason).toBe('bad {x');
      expect((await store.listQuarantine({ limit: 10, connectorId: 'c1' })).map((e) => e.raw)).toEqual(['{x', '{z']);
      expect((await store.listQuarantine({ limit: 10, after: Number(all[0]?.id) })).length).toBe(2);
      expect((await store.listQuarantine({ limit: 1 })).length).toBe(1);
      // What became of an entry: recorded once, listed by status, kept across reads.
      const [x, y, z] = all.map((e) => e.id) as [string, string, string];
      expect(await store.getQuarantine(y)).toEqual(all[1]);
      expect(await store.getQuarantine('999999')).toBeUndefined();
      const retried = { action: 'retried' as const, at: '2026-01-02T00:00:00.000Z', result: { accepted: 1, duplicates: 0, events: 1, rejected: 0 } };
      expect(await store.resolveQuarantine(x, retried)).toBe(true);
      expect(await store.resolveQuarantine(x, { action: 'discarded', at: '2026-01-03T00:00:00.000Z' })).toBe(false);
      expect(await store.resolveQuarantine(z, { action: 'discarded', at: '2026-01-03T00:00:00.000Z' })).toBe(true);
      expect(await store.resolveQuarantine('999999', { action: 'discarded', at: '2026-01-03T00:00:00.000Z' })).toBe(false);
      expect((await store.getQuarantine(x))?.resolution).toEqual(retried);
      const ids = async (status: 'open' | 'retried' | 'discarded') => (await store.listQuarantine({ limit: 10, status })).map((e) => e.id);
      expect([await ids('open'), await ids('retried'), await ids('discarded')]).toEqual([[y], [x], [z]]);
      expect((await store.listQuarantine({ limit: 10, status: 'open', connectorId: 'c1' })).map((e) => e.id)).toEqual([]);
    });

    it('keeps quarantined input exactly: text as given, undecodable bytes as base64 marked so', async () => {
      const store = await open();
      const text = '{"a":1e400,\n "b":"\u0000 ✓"}';
      const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x00]).toString('base64');
      const base = { connectorId: 'c1', receivedAt: '2026-01-01T00:00:00.000Z', code: 'SB_ERR_INGEST_MALFORMED', reason: 'r' };
      await store.commit([batch([], { quarantine: [{ ...base, raw: text }, { ...base, raw: bytes, rawEncoding: 'base64' as const }] })]);
      const [a, b] = await store.listQuarantine({ limit: 10 });
      expect(a?.raw).toBe(text);
      expect(a?.rawEncoding).toBeUndefined();
      expect(b).toMatchObject({ raw: bytes, rawEncoding: 'base64' });
    });

    it('saves cursors with their batch and reports per-connector stats', async () => {
      const store = await open();
      expect(await store.getCursor('c1')).toBeUndefined();
      await store.commit([batch([ev()], { cursor: 'pos-1' })]);
      expect(await store.getCursor('c1')).toBe('pos-1');
      await store.commit([batch([ev()], { cursor: 'pos-2' })]);
      expect(await store.getCursor('c1')).toBe('pos-2');
      await store.commit([batch([], { connectorId: 'c9', quarantine: [{ connectorId: 'c9', receivedAt: '2026-01-01T00:00:00.000Z', code: 'X', reason: 'r', raw: 'x' }] })]);
      const stats = await store.connectorStats();
      const c1 = stats.find((s) => s.connectorId === 'c1');
      expect(c1?.events).toBe(2);
      expect(c1?.lastSequence).toBe(await store.latestSequence());
      expect(stats.find((s) => s.connectorId === 'c9')?.quarantined).toBe(1);
    });

    it('keeps small connector state by connector, namespace and key', async () => {
      const store = await open();
      expect(await store.kvGet('c1', 'contacts', 'k')).toBeUndefined();
      await store.kvPut('c1', 'contacts', 'k', 'v1', '2026-01-01T00:00:00.000Z');
      await store.kvPut('c2', 'contacts', 'k', 'other', '2026-01-01T00:00:00.000Z');
      await store.kvPut('c1', 'contacts', 'k', 'v2', '2026-01-02T00:00:00.000Z');
      expect(await store.kvGet('c1', 'contacts', 'k')).toEqual({ value: 'v2', updatedAt: '2026-01-02T00:00:00.000Z' });
      expect((await store.kvGet('c2', 'contacts', 'k'))?.value).toBe('other');
      expect(await store.kvGet('c1', 'other', 'k')).toBeUndefined();
    });


    // ─── projections ─────────────────────────────────────────────────────────────────────────

    const instance = { idInstance: 1101000001, wid: '79876543210@c.us', typeInstance: 'whatsapp' };
    const chat = '79001234567@c.us';
    const wa = (payload: Record<string, unknown>, connectorId = 'wa') => normalizeGreenApi({ instanceData: instance, ...payload }, { connectorId, receivedAt: '2026-01-01T00:00:00.000Z' });
    const call = (idMessage: string, status: string, timestamp: number, from = chat) => wa({ typeWebhook: 'incomingCall', from, status, timestamp, idMessage });
    const text = (idMessage: string, body: string, timestamp: number) =>
      wa({ typeWebhook: 'incomingMessageReceived', timestamp, idMessage, senderData: { chatId: chat, sender: chat, senderName: 'Ivan' }, messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: body } } });
    const commitAs = (store: Store, connectorId: string, events: SwitchboardEvent[]) => store.commit([{ connectorId, receivedAt: '2026-01-01T00:00:00.000Z', events, quarantine: [] }]);

    it('projects calls and conversations in the commit, with filters, paging, timelines and rebuild', async () => {
      const store = await open();
      await commitAs(store, 'wa', [...call('C1', 'offer', 1_700_000_000), ...call('C1', 'missed', 1_700_000_030)]);
      await commitAs(store, 'wa', [...text('M1', 'hello', 1_700_000_100), ...call('C2', 'offer', 1_700_000_200, '79005556677@c.us'), ...call('C2', 'pickUp', 1_700_000_210, '79005556677@c.us')]);
      const all = await store.projections.listCalls({ limit: 10 });
      expect(all.rows.map((c) => [c.callId, c.state, c.outcome ?? null])).toEqual([['C1', 'ended', 'missed'], ['C2', 'ended', 'answered']]);
      expect(all.next).toBeNull();
      expect((await store.projections.listCalls({ limit: 10, outcome: 'missed' })).rows.map((c) => c.callId)).toEqual(['C1']);
      expect((await store.projections.listCalls({ limit: 10, party: '79005556677@c.us' })).rows.map((c) => c.callId)).toEqual(['C2']);
      expect((await store.projections.listCalls({ limit: 10, conversation: { connectorId: 'wa', conversationId: chat } })).rows.map((c) => c.callId)).toEqual(['C1']);
      expect((await store.projections.listCalls({ limit: 10, from: '2023-11-14T22:15:00.000Z' })).rows.map((c) => c.callId)).toEqual(['C2']);
      const first = await store.projections.listCalls({ limit: 1 });
      expect(first.next).not.toBeNull();
      expect((await store.projections.listCalls({ limit: 1, after: first.next ?? undefined })).rows.map((c) => c.callId)).toEqual(['C2']);
      const one = await store.projections.getCall('wa', 'C1');
      expect(one?.call).toMatchObject({ id: 'wa:C1', conversation: `wa:${chat}` });
      expect(one?.events.map((e) => e.type)).toEqual(['call.ringing', 'call.ended']);
      expect(await store.projections.getCall('wa', 'nope')).toBeUndefined();

      const conversations = await store.projections.listConversations({ limit: 10 });
      expect(conversations.rows.map((c) => [c.id, c.messages])).toEqual([[`wa:${chat}`, 1], ['wa:79005556677@c.us', 0]]);
      expect((await store.projections.listConversations({ limit: 10, clientId: chat })).rows).toHaveLength(1);
      expect(await store.projections.getConversation('wa', chat)).toMatchObject({ inbound: 1, state: 'open' });
      const timeline = await store.projections.timelineEvents('wa', chat);
      expect(timeline?.own.map((e) => e.type)).toEqual(['message.created']);
      expect(timeline?.calls.map((e) => e.type)).toEqual(['call.ringing', 'call.ended']);
      expect(timeline?.own[0]?.sequence).toMatch(/^\d{16}$/);
      expect(await store.projections.timelineEvents('wa', 'nobody@c.us')).toBeUndefined();

      const before = { calls: await store.projections.listCalls({ limit: 10 }), conversations: await store.projections.listConversations({ limit: 10 }) };
      expect(await store.projections.rebuild()).toEqual({ calls: 2, conversations: 2, operators: 0 });
      expect({ calls: await store.projections.listCalls({ limit: 10 }), conversations: await store.projections.listConversations({ limit: 10 }) }).toEqual(before);
    });

    it('aggregates the KPI counters per UTC hour and group over calls and conversations, also after a rebuild', async () => {
      const store = await open();
      const out = (idMessage: string, body: string, timestamp: number) =>
        wa({ typeWebhook: 'outgoingMessageReceived', timestamp, idMessage, senderData: { chatId: chat, sender: chat }, messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: body } } });
      // 1_700_000_000 is 2023-11-14T22:13:20Z.
      await commitAs(store, 'wa', [...call('K1', 'offer', 1_700_000_000), ...call('K1', 'pickUp', 1_700_000_012)]); // answered after 12 s
      await commitAs(store, 'wa', [...call('K2', 'offer', 1_700_000_100), ...call('K2', 'declined', 1_700_000_103)]); // abandoned after 3 s
      await commitAs(store, 'wa', [...call('K3', 'offer', 1_700_003_000, '79005556677@c.us'), ...call('K3', 'hungUp', 1_700_003_040, '79005556677@c.us')]); // rejected, next hour
      await commitAs(store, 'wa', [...text('KM1', 'hi', 1_700_000_200), ...out('KM2', 'hello', 1_700_000_260)]); // first response 60 s
      await commitAs(store, 'c2', [...call('K4', 'offer', 1_700_000_300)]); // still ringing, another connector
      const q = { from: '2023-11-14T00:00:00.000Z', to: '2023-11-15T00:00:00.000Z', serviceLevelSec: 20, shortAbandonSec: 5 };
      const zero = { inbound: 0, answeredInbound: 0, unansweredInbound: 0, abandoned: 0, shortAbandoned: 0, answeredInServiceLevel: 0, answerWaitSec: 0, answerWaitCount: 0, outbound: 0, answeredOutbound: 0, talkSec: 0, talkCount: 0, inProgress: 0, chats: 0, firstResponseSec: 0, firstResponseCount: 0, assignmentSec: 0, assignmentCount: 0 };
      const expected = [
        { ...zero, hour: '2023-11-14T22:00:00.000Z', key: null, inbound: 2, answeredInbound: 1, unansweredInbound: 1, abandoned: 1, shortAbandoned: 1, answeredInServiceLevel: 1, answerWaitSec: 12, answerWaitCount: 1, inProgress: 1, chats: 1, firstResponseSec: 60, firstResponseCount: 1 },
        { ...zero, hour: '2023-11-14T23:00:00.000Z', key: null, inbound: 1, unansweredInbound: 1 },
      ];
      const rounded = (rows: StatsCounters[]) => rows.map((r) => ({ ...r, answerWaitSec: Math.round(r.answerWaitSec * 1000) / 1000 }));
      expect(rounded(await store.projections.stats(q))).toEqual(expected);
      const byConnector = await store.projections.stats({ ...q, by: 'connector' });
      expect(byConnector.map((r) => [r.hour, r.key, r.inbound, r.inProgress])).toEqual([
        ['2023-11-14T22:00:00.000Z', 'c2', 0, 1],
        ['2023-11-14T22:00:00.000Z', 'wa', 2, 0],
        ['2023-11-14T23:00:00.000Z', 'wa', 1, 0],
      ]);
      expect(await store.projections.stats({ ...q, connectorId: 'c2', serviceLevelSec: 10 })).toEqual([{ ...zero, hour: '2023-11-14T22:00:00.000Z', key: null, inProgress: 1 }]);
      expect(await store.projections.stats({ ...q, from: '2023-11-15T00:00:00.000Z', to: '2023-11-16T00:00:00.000Z' })).toEqual([]);
      await store.projections.rebuild();
      expect(rounded(await store.projections.stats(q))).toEqual(expected);
    });

    it('a bulk load defers the projections to a catch-up in chunks that resumes after a reopen, and ends equal to a rebuild', async () => {
      let store = await open();
      const deferred = (events: SwitchboardEvent[], connectorId = 'wa') => store.commit([{ connectorId, receivedAt: '2026-01-01T00:00:00.000Z', events, quarantine: [] }], { deferProjections: true });
      await deferred([...call('C1', 'offer', 1_700_000_000), ...text('M1', 'hello', 1_700_000_100)]);
      await deferred([...call('C1', 'missed', 1_700_000_030), ...call('C2', 'offer', 1_700_000_200, '79005556677@c.us'), ...text('M2', 'again', 1_700_000_300)]);
      const revoke = normalizeTwin({ channel: 'notifications', offset: 1, data: { event: 'operatorBlocked', data: { operatorId: 7 } } }, { connectorId: 'twin', receivedAt: '2026-01-01T00:00:00.000Z' });
      await deferred(revoke, 'twin');
      // Nothing projected yet; the message counts (increments) are kept in the commit all the same.
      expect((await store.projections.listCalls({ limit: 10 })).rows).toEqual([]);
      expect((await store.projections.listOperators({ limit: 10 })).rows).toEqual([]);
      // Entities: calls C1 and C2; conversations of the chat and of C2's caller; operator 7.
      expect(await store.projections.pendingCount()).toBe(5);

      // One chunk of 2, then the store is closed as by a crash between chunks.
      const progress: [number, number][] = [];
      // The caller's own exception comes back as it is (not as a store failure).
      const stop = new Error('stop');
      expect(await store.projections.catchUp({ chunk: 2, onProgress: (done, left) => { progress.push([done, left]); if (done >= 2) throw stop; } }).catch((e: unknown) => e)).toBe(stop);
      expect(progress).toEqual([[2, 3]]);
      store = await (h as StoreHarness).reopen();
      await store.open();
      expect(await store.projections.pendingCount()).toBe(3);
      const seen: [number, number][] = [];
      expect(await store.projections.catchUp({ chunk: 2, onProgress: (done, left) => seen.push([done, left]) })).toBe(3);
      expect(seen).toEqual([[2, 1], [3, 0]]);
      expect(await store.projections.pendingCount()).toBe(0);

      const all = await store.projections.listCalls({ limit: 10 });
      expect(all.rows.map((c) => [c.callId, c.state, c.outcome ?? null]).sort()).toEqual([['C1', 'ended', 'missed'], ['C2', 'ringing', null]]);
      expect(await store.projections.getConversation('wa', chat)).toMatchObject({ inbound: 2, state: 'open' });
      expect((await store.projections.listOperators({ limit: 10 })).rows).toEqual([expect.objectContaining({ id: 'twin:7', status: 'revoked' })]);
      const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : 1));
      const now = async () => ({
        calls: byId((await store.projections.listCalls({ limit: 10 })).rows),
        conversations: byId((await store.projections.listConversations({ limit: 10 })).rows),
        operators: byId((await store.projections.listOperators({ limit: 10 })).rows),
      });
      const caughtUp = await now();
      await store.projections.rebuild();
      expect(await now()).toEqual(caughtUp);
      await store.close();
    });

    it('a live commit while a bulk load waits for its catch-up folds from the log, not from a row the load left stale', async () => {
      const store = await open();
      const live = (events: SwitchboardEvent[]) => store.commit([{ connectorId: 'wa', receivedAt: '2026-01-01T00:00:00.000Z', events, quarantine: [] }]);
      await live(call('C3', 'offer', 1_700_000_400));
      expect((await store.projections.getCall('wa', 'C3'))?.call).toMatchObject({ state: 'ringing' });
      // The bulk load's "missed" waits for the catch-up; the live "hangUp" after it must not be
      // folded into the row of the offer alone: the first end (missed) decides the outcome.
      await store.commit([{ connectorId: 'wa', receivedAt: '2026-01-01T00:00:00.000Z', events: call('C3', 'missed', 1_700_000_430), quarantine: [] }], { deferProjections: true });
      await live(call('C3', 'hangUp', 1_700_000_460));
      expect((await store.projections.getCall('wa', 'C3'))?.call).toMatchObject({ state: 'ended', outcome: 'missed', events: 3 });
      await store.projections.catchUp({ chunk: 10 });
      const caughtUp = await store.projections.getCall('wa', 'C3');
      // Caught up, new events fold into the rows again, and the result is still the rebuild's.
      await live(text('M9', 'after', 1_700_000_500));
      const conversation = await store.projections.getConversation('wa', chat);
      await store.projections.rebuild();
      expect(await store.projections.getCall('wa', 'C3')).toEqual(caughtUp);
      expect(await store.projections.getConversation('wa', chat)).toEqual(conversation);
      await store.close();
    });

    it('projects operators, breaking ties of equal times by arrival', async () => {
      const store = await open();
      const revoke = (event: string, offset: number) => normalizeTwin({ channel: 'notifications', offset, data: { event, data: { operatorId: 42 } } }, { connectorId: 'twin', receivedAt: '2026-01-01T00:00:00.000Z' });
      await commitAs(store, 'twin', revoke('operatorBlocked', 1));
      await commitAs(store, 'twin', revoke('operatorLoggedOut', 2));
      const ops = await store.projections.listOperators({ limit: 10 });
      expect(ops.rows).toEqual([expect.objectContaining({ id: 'twin:42', status: 'revoked', revokedReason: 'logged-out' })]);
      expect((await store.projections.listOperators({ limit: 10, status: 'online' })).rows).toEqual([]);
    });

    // ─── delivery ────────────────────────────────────────────────────────────────────────────

    const subscription = (id: string, over: Record<string, unknown> = {}) => ({
      id,
      origin: 'api' as const,
      url: 'https://example.com/hook',
      filters: { types: ['call.*'] },
      mode: 'structured' as const,
      ordered: false,
      secrets: [{ secret: 'whsec_c2VjcmV0', expiresAt: null }],
      description: undefined,
      enabled: true,
      disabledReason: undefined,
      ...over,
    });

    it('keeps subscriptions: create, replace, enable and disable, rotate secrets, delete', async () => {
      const store = await open();
      const d = store.delivery;
      const created = await d.put(subscription('s1'));
      expect(created).toMatchObject({ id: 's1', enabled: true, filters: { types: ['call.*'] } });
      expect((await d.list()).map((x) => x.id)).toEqual(['s1']);
      await d.put(subscription('s1', { url: 'https://example.com/other' }));
      expect((await d.get('s1'))?.url).toBe('https://example.com/other');
      expect(await d.setEnabled('s1', false, 'paused')).toMatchObject({ enabled: false, disabledReason: 'paused' });
      expect(await d.setEnabled('s1', true, undefined)).toMatchObject({ enabled: true });
      expect((await d.setSecrets('s1', [{ secret: 'whsec_bmV3', expiresAt: null }]))?.secrets).toEqual([{ secret: 'whsec_bmV3', expiresAt: null }]);
      expect(await d.delete('s1')).toBe(true);
      expect(await d.get('s1')).toBeUndefined();
      expect(await d.delete('s1')).toBe(false);
    });

    it('writes the outbox in the commit for matching enabled subscriptions; due rows, attempts, counts, replay, prune', async () => {
      const store = await open();
      const d = store.delivery;
      d.configure({ firstDelayMs: 0 });
      await d.put(subscription('calls'));
      await d.put(subscription('off', { enabled: false }));
      await commitAs(store, 'wa', [...call('D1', 'offer', 1_700_000_000), ...text('DM', 'x', 1_700_000_001), ...call('D1', 'missed', 1_700_000_030)]);
      const sub = (await d.get('calls'))!;
      const due = await d.due(sub, Date.now() + 1000, 10);
      expect(due.map((r) => r.status)).toEqual(['pending', 'pending']);
      expect(await d.due((await d.get('off'))!, Date.now() + 1000, 10)).toEqual([]);
      expect(JSON.parse((await d.eventBody(due[0]!.seq))!)).toMatchObject({ type: 'call.ringing' });
      expect(await d.countsOf('calls')).toEqual({ pending: 2, delivered: 0, failed: 0 });
      const now = Date.now();
      const disable = await d.recordAttempts(
        [
          { did: due[0]!.did, subscriptionId: 'calls', round: 0, attempt: 1, startedAt: now, durationMs: 5, status: 200, error: undefined, result: 'delivered', nextAt: undefined },
          { did: due[1]!.did, subscriptionId: 'calls', round: 0, attempt: 1, startedAt: now, durationMs: 5, status: 500, error: 'HTTP 500', result: 'exhausted', nextAt: undefined },
        ],
        86_400_000,
      );
      expect(disable).toEqual([]);
      expect(await d.countsOf('calls')).toEqual({ pending: 0, delivered: 1, failed: 1 });
      expect((await d.counts()).get('calls')).toMatchObject({ pending: 0, failed: 1 });
      const listed = await d.listDeliveries({ subscriptionId: 'calls', limit: 10 });
      expect(listed.map((r) => [r.status, r.type])).toEqual([['delivered', 'call.ringing'], ['failed', 'call.ended']]);
      expect((await d.attemptsOf(due[1]!.did, 10)).map((a) => a.status)).toEqual([500]);
      expect(await d.getRow(due[1]!.did)).toMatchObject({ status: 'failed', last_error: 'HTTP 500' });
      // Retry one now: a failed row starts a new round, due at once; only the subscription's own rows.
      const rounds = (await d.getRow(due[1]!.did))!.rounds;
      expect(await d.retryNow('off', due[1]!.did, now)).toBeUndefined();
      expect(await d.retryNow('calls', due[1]!.did, now)).toMatchObject({ did: due[1]!.did, status: 'pending', attempts: 0, rounds: rounds + 1, next_at: now });
      expect(await d.retryNow('calls', due[1]!.did, now + 5)).toMatchObject({ status: 'pending', rounds: rounds + 1, next_at: now + 5 });
      expect((await d.due(sub, now + 5, 10)).map((r) => r.did)).toEqual([due[1]!.did]);
      await d.recordAttempts([{ did: due[1]!.did, subscriptionId: 'calls', round: 1, attempt: 1, startedAt: now, durationMs: 5, status: 500, error: 'HTTP 500', result: 'exhausted', nextAt: undefined }], 86_400_000);
      expect(await d.replay(sub, { onlyFailed: true })).toEqual({ enqueued: 1, alreadyPending: 0, matched: 1 });
      expect(await d.countsOf('calls')).toEqual({ pending: 1, delivered: 1, failed: 0 });
      expect(await d.nextDueAfter(0)).toEqual(expect.any(Number));
      expect(await d.prune(new Date(Date.now() + 60_000))).toBe(1);
      expect(await d.countsOf('calls')).toEqual({ pending: 1, delivered: 0, failed: 0 });
    });

    it('reads events after a sequence and keeps sink cursors', async () => {
      const store = await open();
      await commitAs(store, 'c1', [ev(), ev(), ev()]);
      const after = await store.delivery.eventsAfter(1, 10);
      expect(after.map((r) => r.seq)).toEqual([2, 3]);
      expect(JSON.parse(after[0]!.body)).toMatchObject({ type: 'native.unmapped' });
      expect(await store.delivery.sinkCursor('nats:x')).toBe(0);
      await store.delivery.saveSinkCursor('nats:x', 3);
      expect(await store.delivery.sinkCursor('nats:x')).toBe(3);
    });

    it('keeps everything across a close and reopen', async () => {
      const store = await open();
      const a = ev();
      await store.commit([batch([a], { cursor: 'kept' })]);
      await store.kvPut('c1', 'ns', 'key', 'kept-value', '2026-01-01T00:00:00.000Z');
      await store.close();
      const again = await (h as StoreHarness).reopen();
      await again.open();
      expect((await again.getEvent(a.id))?.id).toBe(a.id);
      expect(await again.getCursor('c1')).toBe('kept');
      expect((await again.kvGet('c1', 'ns', 'key'))?.value).toBe('kept-value');
      const [dup] = await again.commit([batch([a])]);
      expect(dup?.stored[0]).toBeUndefined();
      await again.close();
    });

    it('refuses work once closed', async () => {
      const store = await open();
      await store.close();
      await expect(store.commit([batch([ev()])])).rejects.toMatchObject({ code: 'SB_ERR_STORE_CLOSED' });
      expect(await store.ping()).toBe(false);
    });
  });
}
