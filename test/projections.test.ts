/**
 * Projections (DESIGN §3) on each platform's scenarios: outcomes, timelines with the four
 * call-record policies, order- and duplicate-independence, and rebuild.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { SCENARIOS as GREENAPI } from '../src/connectors/greenapi/scenarios.js';
import { scenarioEvents } from '../src/connectors/connect1c/scenarios.js';
import { THREADS_SCENARIOS } from '../src/connectors/threads/scenarios.js';
import { TWIN_SCENARIOS } from '../src/connectors/twin/scenarios.js';
import { connectorFor } from '../src/connectors/registry.js';
import { apiHeaders, startTestServer, type TestServer } from './helpers/sb.js';

const NOW = Date.parse('2026-03-02T09:00:00Z');
const CONNECTORS = [
  { id: 'wa', platform: 'greenapi' },
  { id: 'wa-en', platform: 'greenapi', language: 'en' },
  { id: 'widget', platform: 'widget' },
  { id: 'threads', platform: 'threads' },
  { id: 'twin', platform: 'twin', auth: { token: 'unused-token' }, url: 'ws://127.0.0.1:9/never' },
  { id: '1c', platform: 'connect1c' },
];

type Payloads = { connector: string; payloads: unknown[] };

const wa = (name: string, now = NOW) => GREENAPI[name]?.notifications({ idInstance: '1101000001', wid: '79876543210@c.us', now }) ?? [];
const twin = (name: string) => (TWIN_SCENARIOS[name]?.publications() ?? []).map((data, i) => ({ channel: 'notifications', offset: i + 1, data }));
const widgetCall = (callId: string, t0: number) =>
  [
    ['RINGING', 0],
    ['CONNECTED', 5],
    ['REDIRECTED', 30],
    ['CONNECTED', 35],
    ['FINISH', 90],
    ['ENDED', 91],
    ['FEEDBACK_RATE', 100, { rating: 4 }],
    ['CLOSED', 110],
  ].map(([code, s, data]) => ({ code, callId, timestamp: t0 + (s as number) * 1000, ...(data ? { data } : {}) }));
const threadsHandover = (threadId: number) => [
  { origin: 'threads', type: 'THREAD_OPENED', threadId },
  { origin: 'threads', type: 'MESSAGE', threadId, uuid: 'u-1', text: 'Здравствуйте', receivedDate: '2026-03-02T09:00:01Z', operator: { id: 1, name: 'Бот', role: 'EXTERNAL_BOT' } },
  { origin: 'threads', type: 'OPERATOR_LOOKUP_STARTED', threadId },
  { origin: 'threads', type: 'OPERATOR_JOINED', threadId, providerId: 'p-2', operator: { id: 7, name: 'Анна', role: 'OPERATOR' } },
  { origin: 'threads', type: 'MESSAGE', threadId, uuid: 'u-3', text: 'Чем помочь?', receivedDate: '2026-03-02T09:00:20Z', operator: { id: 7, name: 'Анна', role: 'OPERATOR' } },
  { origin: 'threads', type: 'MESSAGES_READ', threadId, readInMessageIds: 'u-1,u-3' },
  { origin: 'threads', type: 'THREAD_CLOSED', threadId },
];

/** Every scenario of the acceptance list, as native payloads per connector. */
function scenarios(): Record<string, Payloads[]> {
  return {
    'answered call (GREEN-API)': [{ connector: 'wa', payloads: wa('answered-call') }],
    'missed call (GREEN-API)': [{ connector: 'wa', payloads: wa('missed-call') }],
    'call rejected by the operator (GREEN-API)': [{ connector: 'wa', payloads: wa('rejected-call') }],
    'answered call with recording and rating (1С-Коннект)': [{ connector: '1c', payloads: scenarioEvents('answered-call', { now: NOW }) }],
    'missed call (1С-Коннект)': [{ connector: '1c', payloads: scenarioEvents('missed-call', { now: NOW }) }],
    'redirected call, then rated (widget)': [{ connector: 'widget', payloads: widgetCall('W-1', NOW) }],
    'bot-to-operator handover with read receipts (TWIN)': [{ connector: 'twin', payloads: twin('handover') }],
    'bot-to-operator handover with read receipts (Threads)': [{ connector: 'threads', payloads: threadsHandover(42) }],
    'operator presence (1С-Коннект)': [{ connector: '1c', payloads: scenarioEvents('agent-status', { now: NOW }) }],
    'operator revoked (TWIN)': [{ connector: 'twin', payloads: twin('operator-blocked') }],
  };
}

interface Projections {
  calls: Record<string, unknown>[];
  conversations: Record<string, unknown>[];
  operators: Record<string, unknown>[];
}

async function get<T>(t: TestServer, path: string): Promise<T> {
  const res = await fetch(`${t.url}${path}`, { headers: apiHeaders });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function projections(t: TestServer): Promise<Projections> {
  const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  return {
    calls: byId((await get<{ calls: Record<string, unknown>[] }>(t, '/v1/calls?limit=1000')).calls),
    conversations: byId((await get<{ conversations: Record<string, unknown>[] }>(t, '/v1/conversations?limit=1000')).conversations),
    operators: byId((await get<{ operators: Record<string, unknown>[] }>(t, '/v1/operators?limit=1000')).operators),
  };
}

/**
 * A seeded shuffle with duplicates that keeps the arrival order of the payloads `keep` picks (those
 * whose events have only a receipt time: their arrival is their order, DESIGN §5), and moves the
 * others anywhere.
 */
function scramble<T>(items: readonly T[], seed: number, keep: (item: T) => boolean = () => false): T[] {
  const shuffled = shuffle(items, seed);
  const slots = shuffled.map((x, i) => (keep(x) ? i : -1)).filter((i) => i >= 0);
  const kept = slots.map((i) => shuffled[i] as T).sort((a, b) => items.indexOf(a) - items.indexOf(b));
  slots.forEach((slot, k) => {
    shuffled[slot] = kept[k] as T;
  });
  return shuffled;
}

/** Whether a payload's events carry only the receipt time. */
function receiptTimed(connector: string, payload: unknown): boolean {
  const platform = CONNECTORS.find((c) => c.id === connector)?.platform ?? '';
  const events = connectorFor(platform)?.normalize(payload, { connectorId: connector, receivedAt: new Date(NOW).toISOString() }) ?? [];
  return events.some((e) => e.timesource === 'receipt');
}

/** A seeded shuffle with duplicates. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out = [...items, ...items.filter(() => rnd() < 0.4)];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('projections', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const t of servers.splice(0)) await t.close();
  });
  async function server(): Promise<TestServer> {
    // Events without a platform time take the receipt time: a fixed receipt clock makes those
    // equal in every run, so that only the platform's own times and the type ranks order them.
    const t = await startTestServer({ connectors: CONNECTORS as never }, { now: () => new Date(NOW) });
    servers.push(t);
    return t;
  }
  async function feed(t: TestServer, parts: Payloads[], order?: (items: unknown[], connector: string) => unknown[]): Promise<void> {
    for (const { connector, payloads } of parts) for (const p of order ? order(payloads, connector) : payloads) await t.sb.ingest(connector, p);
  }

  it('derive each scenario\'s calls, conversations and operators', async () => {
    const t = await server();
    for (const parts of Object.values(scenarios())) await feed(t, parts);
    const { calls, conversations, operators } = await projections(t);
    const call = (connector: string, pred: (c: Record<string, unknown>) => boolean) => calls.filter((c) => c.connectorId === connector && pred(c));

    const waCalls = call('wa', () => true);
    expect(waCalls.map((c) => [c.outcome, c.reason, c.state]).sort()).toEqual([
      ['answered', 'answered', 'ended'],
      ['missed', 'caller-gave-up', 'ended'],
      ['rejected', 'callee-rejected', 'ended'],
    ]);
    for (const c of waCalls) {
      expect(c.conversationId).toMatch(/@c\.us$/);
      expect(c.ringingAt).toEqual(expect.any(String));
      expect(c.endedAt).toEqual(expect.any(String));
    }
    expect(waCalls.find((c) => c.outcome === 'answered')?.answeredAt).toEqual(expect.any(String));
    expect(waCalls.find((c) => c.outcome === 'missed')?.answeredAt).toBeUndefined();

    const c1 = call('1c', () => true);
    const answered1c = c1.find((c) => c.outcome === 'answered');
    expect(answered1c).toMatchObject({ state: 'ended', rating: 5, recordingUrl: expect.stringMatching(/^https?:\/\//) });
    expect(answered1c?.talkSec).toEqual(expect.any(Number));
    expect(answered1c?.conversationId).toEqual(expect.any(String));
    expect(c1.find((c) => c.outcome === 'missed')).toMatchObject({ reason: 'no-operator' });

    expect(call('widget', () => true)).toEqual([expect.objectContaining({ callId: 'W-1', state: 'closed', outcome: 'answered', redirects: 1, rating: 4 })]);

    const threads = conversations.find((c) => c.connectorId === 'threads');
    expect(threads).toMatchObject({ state: 'closed', messages: 2, operator: expect.objectContaining({ name: 'Анна' }) });
    const twinConv = conversations.filter((c) => c.connectorId === 'twin');
    expect(twinConv.length).toBeGreaterThan(0);
    expect(twinConv.some((c) => (c.messages as number) > 0 && c.state === 'closed')).toBe(true);

    const presence = operators.filter((o) => o.connectorId === '1c');
    expect(presence.length).toBeGreaterThan(0);
    expect(presence.every((o) => typeof o.status === 'string' && typeof o.since === 'string')).toBe(true);
    expect(operators.find((o) => o.connectorId === 'twin')).toMatchObject({ status: 'revoked', revokedReason: 'blocked' });

    // Filters and paging.
    const missed = await get<{ calls: { outcome: string }[] }>(t, '/v1/calls?outcome=missed&limit=1000');
    expect(missed.calls.length).toBeGreaterThanOrEqual(2);
    expect(missed.calls.every((c) => c.outcome === 'missed')).toBe(true);
    const waOnly = await get<{ calls: unknown[] }>(t, '/v1/calls?platform=greenapi');
    expect(waOnly.calls).toHaveLength(3);
    const party = await get<{ calls: unknown[] }>(t, `/v1/calls?party=${encodeURIComponent(String((waCalls[0]?.from as { phone?: string } | undefined)?.phone))}`);
    expect(party.calls.length).toBeGreaterThan(0);
    const first = await get<{ calls: { id: string }[]; next: string }>(t, '/v1/calls?limit=2');
    const second = await get<{ calls: { id: string }[] }>(t, `/v1/calls?limit=2&after=${first.next}`);
    expect(second.calls[0]?.id).not.toBe(first.calls[0]?.id);
    const one = await get<{ call: { id: string }; events: { type: string }[] }>(t, `/v1/calls/${encodeURIComponent(String(waCalls[0]?.id))}`);
    expect(one.call.id).toBe(waCalls[0]?.id);
    expect(one.events.length).toBeGreaterThanOrEqual(2);
    expect((await fetch(`${t.url}/v1/calls/nope:nothing`, { headers: apiHeaders })).status).toBe(404);
    expect((await fetch(`${t.url}/v1/calls?from=yesterday`, { headers: apiHeaders })).status).toBe(400);
  });

  it('a late call.ringing after call.ended does not reopen the call', async () => {
    const t = await server();
    const [offer, end] = wa('missed-call');
    await t.sb.ingest('wa', end);
    await t.sb.ingest('wa', { ...(offer as Record<string, unknown>), timestamp: Number((end as { timestamp: number }).timestamp) + 60 });
    const { calls } = await projections(t);
    expect(calls).toEqual([expect.objectContaining({ state: 'ended', outcome: 'missed' })]);
  });

  it('every scenario reaches the same projections in any order and with duplicates (receipt-timed events keeping their arrival order)', async () => {
    const all = scenarios();
    const reference = await server();
    for (const parts of Object.values(all)) await feed(reference, parts);
    const expected = await projections(reference);
    for (let seed = 1; seed <= 12; seed++) {
      const t = await server();
      for (const parts of Object.values(all)) await feed(t, parts, (items, connector) => scramble(items, seed, (p) => receiptTimed(connector, p)));
      expect(await projections(t), `seed ${seed}`).toEqual(expected);
      // Built by folding each commit into the rows (or recomputing an entity whose new event goes
      // before one it has seen): the same as recomputing everything from the log.
      await t.sb.rebuild();
      expect(await projections(t), `seed ${seed}, rebuilt`).toEqual(expected);
      await t.close();
      servers.pop();
    }
  });

  it('`rebuild` gives projections identical to the incrementally built ones (library and CLI)', async () => {
    const t = await server();
    for (const parts of Object.values(scenarios())) await feed(t, parts);
    const before = await projections(t);
    expect(await t.sb.rebuild()).toEqual({ projections: { calls: before.calls.length, conversations: before.conversations.length, operators: before.operators.length } });
    expect(await projections(t)).toEqual(before);

    await t.sb.close();
    const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
    const config = `${t.dir}/c.json`;
    await import('node:fs').then((fs) => fs.writeFileSync(config, JSON.stringify({ store: t.store, server: { apiToken: 'test-api-token-0123456789' }, connectors: CONNECTORS })));
    const { stdout } = await promisify(execFile)('node', [cli, 'rebuild', '--config', config]);
    expect(stdout).toMatch(new RegExp(`rebuilt ${before.calls.length} calls, ${before.conversations.length} conversations, ${before.operators.length} operators`));
    const again = await startTestServer({ connectors: CONNECTORS as never, store: t.store });
    servers.push(again);
    expect(await projections(again)).toEqual(before);
  });
});

describe('timelines and call records', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const t of servers.splice(0)) await t.close();
  });

  const chat = '79001234567@c.us';
  const call = (idMessage: string, status: string, at: number) => ({ typeWebhook: 'incomingCall', instanceData: { idInstance: 1101000001, wid: '79876543210@c.us', typeInstance: 'whatsapp' }, timestamp: at, from: chat, status, idMessage });
  const text = (idMessage: string, body: string, at: number) => ({
    typeWebhook: 'incomingMessageReceived',
    instanceData: { idInstance: 1101000001, wid: '79876543210@c.us', typeInstance: 'whatsapp' },
    timestamp: at,
    idMessage,
    senderData: { chatId: chat, sender: chat, senderName: 'Ivan' },
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: body } },
  });
  // One chat: a message, then four calls ending answered, rejected (hungUp), missed (declined), missed (missed).
  const history = [
    text('M1', 'Добрый день', 1000),
    call('C1', 'offer', 1010), call('C1', 'pickUp', 1020),
    call('C2', 'offer', 1030), call('C2', 'hungUp', 1040),
    call('C3', 'offer', 1050), call('C3', 'declined', 1060),
    call('C4', 'offer', 1070), call('C4', 'missed', 1080),
    text('M2', 'Перезвоните', 1090),
  ];

  const expected: Record<string, { ru: string[]; en: string[] }> = {
    none: { ru: [], en: [] },
    'offer-only': { ru: ['Входящий вызов', 'Входящий вызов', 'Входящий вызов', 'Входящий вызов'], en: ['Incoming call', 'Incoming call', 'Incoming call', 'Incoming call'] },
    'results-only': { ru: ['Отвеченный звонок', 'Пропущенный звонок', 'Пропущенный звонок', 'Пропущенный звонок'], en: ['Answered call', 'Missed call', 'Missed call', 'Missed call'] },
    all: {
      ru: ['Входящий вызов', 'Отвеченный звонок', 'Входящий вызов', 'Сброшенный звонок', 'Входящий вызов', 'Пропущенный звонок', 'Входящий вызов', 'Пропущенный звонок'],
      en: ['Incoming call', 'Answered call', 'Incoming call', 'Rejected call', 'Incoming call', 'Missed call', 'Incoming call', 'Missed call'],
    },
  };

  for (const [policy, texts] of Object.entries(expected)) {
    for (const language of ['ru', 'en'] as const) {
      it(`${policy} (${language}): exactly the entries and texts of seed 004, in order among the messages`, async () => {
        const t = await startTestServer({ connectors: [{ id: 'wa', platform: 'greenapi', callRecords: policy, language }] as never });
        servers.push(t);
        for (const p of shuffle(history, 7)) await t.sb.ingest('wa', p);
        const timeline = await (await fetch(`${t.url}/v1/conversations/${encodeURIComponent(`wa:${chat}`)}/timeline`, { headers: apiHeaders })).json() as { callRecords: string; entries: { kind: string; text?: string; time: string }[] };
        expect(timeline.callRecords).toBe(policy);
        expect(timeline.entries.filter((e) => e.kind === 'call-record').map((e) => e.text)).toEqual(texts[language]);
        const kinds = timeline.entries.map((e) => e.kind);
        expect(kinds[0]).toBe('message');
        expect(kinds[kinds.length - 1]).toBe('message');
        const times = timeline.entries.map((e) => e.time);
        expect(times).toEqual([...times].sort());
      });
    }
  }

  it('a caller name looked up later reaches the call and the conversation', async () => {
    const t = await startTestServer({ connectors: [{ id: 'wa', platform: 'greenapi' }] as never });
    servers.push(t);
    await t.sb.ingest('wa', [call('N1', 'offer', 2000), text('N2', 'hi', 2001)]);
    // The event caller-name enrichment emits.
    const { collector } = await import('../src/core/index.js');
    const out = collector('greenapi', { connectorId: 'wa', receivedAt: new Date(3_000_000).toISOString() }, { name: 'Иван' }, `contact|${chat}|Иван`, 'getContactInfo');
    out.emit('contact.updated', `client/${chat}`, { contactId: chat, name: 'Иван Петров', phone: '79001234567' });
    const internals = t.sb as unknown as { committer: { submit(b: unknown): Promise<unknown> } };
    await internals.committer.submit({ connectorId: 'wa', receivedAt: new Date().toISOString(), events: out.events, quarantine: [] });
    const { calls, conversations } = await projections(t);
    expect(calls[0]?.from).toMatchObject({ name: 'Иван Петров' });
    expect(conversations[0]?.client).toMatchObject({ name: 'Иван Петров' });
  });
});

describe('the first hour: calls without chats, references, durations, ties and receipt times', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const t of servers.splice(0)) await t.close();
  });
  async function server(connectors: unknown[], now?: () => Date): Promise<TestServer> {
    const t = await startTestServer({ connectors: connectors as never }, now ? { now } : {});
    servers.push(t);
    return t;
  }
  const instance = { idInstance: 1101000001, wid: '79876543210@c.us', typeInstance: 'whatsapp' };
  const chat = '79001234567@c.us';
  const incomingCall = (idMessage: string, status: string, at: number) => ({ from: chat, typeWebhook: 'incomingCall', instanceData: instance, status, timestamp: at, idMessage });

  it('a chat whose first contact is a missed call has a conversation, a timeline with its call records, and the call row leads to it (GREEN-API)', async () => {
    const t = await server([{ id: 'wa', platform: 'greenapi' }]);
    await t.sb.ingest('wa', [incomingCall('FIRST', 'offer', 1_700_000_000), incomingCall('FIRST', 'missed', 1_700_000_030)]);
    const { calls } = await get<{ calls: { id: string; conversation?: string; conversationId?: string }[] }>(t, '/v1/calls');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ conversationId: chat, conversation: `wa:${chat}` });
    const { conversations } = await get<{ conversations: Record<string, unknown>[] }>(t, '/v1/conversations');
    expect(conversations).toEqual([expect.objectContaining({ id: `wa:${chat}`, platform: 'greenapi', messages: 0, state: 'open', client: expect.objectContaining({ id: chat }), openedAt: '2023-11-14T22:13:20.000Z', lastActivityAt: '2023-11-14T22:13:50.000Z' })]);
    // The call row's reference is what the conversation routes take, as it is.
    const ref = encodeURIComponent(String(calls[0]?.conversation));
    expect((await get<{ id: string }>(t, `/v1/conversations/${ref}`)).id).toBe(`wa:${chat}`);
    const timeline = await get<{ entries: { kind: string; text?: string; call?: string }[] }>(t, `/v1/conversations/${ref}/timeline`);
    expect(timeline.entries.map((e) => [e.kind, e.text])).toEqual([['call-record', 'Входящий вызов'], ['call-record', 'Пропущенный звонок']]);
    // …and a call record leads back to its call, and the calls filter by the conversation.
    expect((await get<{ call: { id: string } }>(t, `/v1/calls/${encodeURIComponent(String(timeline.entries[0]?.call))}`)).call.id).toBe(calls[0]?.id);
    expect((await get<{ calls: unknown[] }>(t, `/v1/calls?conversation=${ref}`)).calls).toHaveLength(1);
    expect((await get<{ calls: unknown[] }>(t, `/v1/calls?conversation=${encodeURIComponent('wa:nobody@c.us')}`)).calls).toHaveLength(0);
    expect((await fetch(`${t.url}/v1/calls?conversation=${encodeURIComponent(chat)}`, { headers: apiHeaders })).status).toBe(400);
    // Rebuilt from the log alone, the conversation is still there.
    const before = await projections(t);
    await t.sb.rebuild();
    expect(await projections(t)).toEqual(before);
  });

  it('a 1С-Коннект call on a support line names its chat: the conversation exists with the call records', async () => {
    const t = await server([{ id: '1c', platform: 'connect1c' }]);
    for (const x of scenarioEvents('missed-call', { now: NOW })) await t.sb.ingest('1c', x);
    const { calls } = await get<{ calls: { conversation?: string }[] }>(t, '/v1/calls');
    expect(calls[0]?.conversation).toEqual(expect.stringMatching(/^1c:/));
    const timeline = await get<{ entries: { kind: string; text?: string }[] }>(t, `/v1/conversations/${encodeURIComponent(String(calls[0]?.conversation))}/timeline`);
    expect(timeline.entries.filter((e) => e.kind === 'call-record').map((e) => e.text)).toEqual(['Входящий вызов', 'Пропущенный звонок']);
  });

  it('widget calls get talkSec and durationSec from the times the widget gives', async () => {
    const t = await server([{ id: 'widget', platform: 'widget' }]);
    for (const p of widgetCall('W-9', NOW)) await t.sb.ingest('widget', p);
    const { calls } = await get<{ calls: Record<string, unknown>[] }>(t, '/v1/calls');
    // RINGING 0 s, CONNECTED 5 s, FINISH 90 s, ENDED 91 s.
    expect(calls[0]).toMatchObject({ callId: 'W-9', answeredAt: new Date(NOW + 5000).toISOString(), endedAt: new Date(NOW + 91_000).toISOString(), talkSec: 85, durationSec: 91 });
  });

  it('revocations with the same time end as the last one to arrive (TWIN: blocked, logged in elsewhere, logged out)', async () => {
    const t = await server([{ id: 'twin', platform: 'twin', auth: { token: 'unused-token' }, url: 'ws://127.0.0.1:9/never' }], () => new Date(NOW));
    const revoke = (event: string, offset: number) => ({ channel: 'notifications', offset, data: { event, data: { operatorId: 4217 } } });
    for (const p of [revoke('operatorBlocked', 1), revoke('chatUserExists', 2), revoke('operatorLoggedOut', 3)]) await t.sb.ingest('twin', p);
    const { operators } = await get<{ operators: Record<string, unknown>[] }>(t, '/v1/operators');
    expect(operators).toEqual([expect.objectContaining({ operatorId: '4217', status: 'revoked', revokedReason: 'logged-out' })]);
  });

  it('statuses with the same platform time end as the last one to arrive (1С-Коннект)', async () => {
    const t = await server([{ id: '1c', platform: 'connect1c' }]);
    const status = (id: string, value: string) => `<Event ID="${id}" Time="2026-03-02T12:00:00" Mode="Colleagues" Object="AgentOnlineStatus" Initiator="Incoming"><ColleagueID>c-7</ColleagueID><Status>${value}</Status></Event>`;
    for (const [id, value] of [['ff', 'Online'], ['aa', 'Away'], ['cc', 'Talking']] as const) await t.sb.ingest('1c', status(id, value));
    expect((await get<{ operators: Record<string, unknown>[] }>(t, '/v1/operators')).operators).toEqual([expect.objectContaining({ status: 'busy', nativeStatus: 'Talking' })]);
  });

  it('Threads state pushes without a time stay where they arrived among the messages, with the simulator stamping the real past', async () => {
    const now = Date.now();
    const t = await server([{ id: 'threads', platform: 'threads' }]);
    const pushes = THREADS_SCENARIOS.handover!.pushes({ now });
    for (const p of pushes) await t.sb.ingest('threads', p);
    const threadId = String(pushes[0]?.threadId);
    const timeline = await get<{ entries: { kind: string; type: string; time: string }[] }>(t, `/v1/conversations/${encodeURIComponent(`threads:${threadId}`)}/timeline`);
    // Every push but TYPING (left out of timelines), in the order the platform sent them.
    expect(timeline.entries.map((e) => e.type)).toEqual(
      THREADS_SCENARIOS.handover!.types.filter((type) => type !== 'conversation.typing'),
    );
    expect(timeline.entries[0]?.type).toBe('conversation.opened');
    expect(timeline.entries.every((e) => Date.parse(e.time) <= Date.now())).toBe(true);
  });
});
