/**
 * `GET /v1/stats` (issue 19): contact-center KPIs computed by the store, checked against values
 * worked out by hand for a fixed scenario — widget calls (answered within and after the service
 * level, abandoned short and long, missed for want of an operator, one still talking), GREEN-API
 * outbound calls and chats with their first responses, a Threads conversation assigned to an
 * operator — totals, by hour, by day in a time zone, by connector and by operator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, INGEST_TOKEN, startTestServer, type TestServer } from './helpers/sb.js';

const DAY = '2026-12-01';
const at = (hms: string) => Date.parse(`${DAY}T${hms}.000Z`);
const sec = (hms: string) => Math.floor(at(hms) / 1000);

interface Kpis {
  period: string | null;
  key: string | null;
  calls: Record<string, number | null>;
  chats: Record<string, number | null>;
}

describe('GET /v1/stats', () => {
  let t: TestServer;
  let clock = at('10:00:00');
  const post = async (connector: string, body: unknown) => {
    const res = await fetch(`${t.url}/ingest/${connector}`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const stats = async (query: string) => {
    const res = await fetch(`${t.url}/v1/stats?from=${DAY}T00:00:00Z&to=2026-12-02T00:00:00Z${query}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as { rows: Kpis[]; serviceLevelSec: number; shortAbandonSec: number; tz: string };
  };
  const widget = (callId: string, code: string, hms: string, data?: Record<string, unknown>) => post('widget-web', { code, callId, timestamp: at(hms), ...(data ? { data } : {}) });
  const wa = (typeWebhook: string, chat: string, hms: string, extra: Record<string, unknown>) =>
    post('wa', { typeWebhook, instanceData: { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' }, timestamp: sec(hms), ...extra, ...(typeWebhook.includes('Message') ? { senderData: { chatId: chat, sender: chat } } : { from: chat }) });
  const text = (s: string) => ({ messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: s } } });

  beforeAll(async () => {
    t = await startTestServer(
      {
        connectors: [
          { id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN },
          { id: 'widget-web', platform: 'widget', ingestToken: INGEST_TOKEN },
          { id: 'threads', platform: 'threads', ingestToken: INGEST_TOKEN },
        ],
      },
      { now: () => new Date(clock) },
    );
    // Inbound widget calls (thresholds: service level 20 s, short abandon 5 s).
    await widget('c1', 'RINGING', '10:00:00'); // answered after 8 s, 180 s of talk
    await widget('c1', 'CONNECTED', '10:00:08');
    await widget('c1', 'ENDED', '10:03:08');
    await widget('c2', 'RINGING', '10:10:00'); // answered after 30 s (outside the level), 60 s of talk
    await widget('c2', 'CONNECTED', '10:10:30');
    await widget('c2', 'ENDED', '10:11:30');
    await widget('c3', 'RINGING', '10:20:00'); // the caller cancelled after 3 s: short-abandoned
    await widget('c3', 'CANCELLED', '10:20:03');
    await widget('c4', 'RINGING', '10:30:00'); // the caller cancelled after 40 s: abandoned
    await widget('c4', 'CANCELLED', '10:30:40');
    await widget('c5', 'RINGING', '11:05:00'); // no operator: missed, not abandoned
    await widget('c5', 'CANCELLED', '11:05:50', { noOperator: true });
    await widget('c6', 'RINGING', '11:30:00'); // still talking
    await widget('c6', 'CONNECTED', '11:30:05');
    // GREEN-API: two outbound calls to chat A (one answered, 90 s), then its chat; chat B.
    await wa('outgoingCall', '79001111111@c.us', '10:40:00', { status: 'pickUp', idMessage: 'OUT-1', duration: 90 });
    await wa('outgoingCall', '79001111111@c.us', '10:45:00', { status: 'hungUp', idMessage: 'OUT-2' });
    await wa('incomingMessageReceived', '79001111111@c.us', '10:50:00', { idMessage: 'A-1', ...text('Здравствуйте') });
    await wa('outgoingMessageReceived', '79001111111@c.us', '10:50:45', { idMessage: 'A-2', ...text('Добрый день!') }); // first response: 45 s
    await wa('incomingMessageReceived', '79002222222@c.us', '11:10:00', { idMessage: 'B-1', ...text('Вопрос') });
    await wa('outgoingMessageReceived', '79002222222@c.us', '11:12:00', { idMessage: 'B-2', ...text('Ответ') }); // 120 s
    // Threads: opened, a client message, an operator joins 30 s after the opening (receipt times).
    clock = at('10:55:00');
    await post('threads', { origin: 'threads', type: 'THREAD_OPENED', threadId: 501 });
    clock = at('10:55:10');
    await post('threads', { origin: 'threads', type: 'MESSAGE', uuid: 'm-501-1', threadId: 501, clientId: 'client-501', operator: null, text: 'Помогите', receivedDate: `${DAY}T10:55:10.000Z` });
    clock = at('10:55:30');
    await post('threads', { origin: 'threads', type: 'OPERATOR_JOINED', threadId: 501, providerId: 'join-501', operator: { id: 4, name: 'Оператор Елена' } });
  });
  afterAll(async () => t.close());

  it('totals: calls answered, missed, abandoned, short-abandoned; answer rate, service level, speed of answer, talk time; chats', async () => {
    const body = await stats('');
    expect(body).toMatchObject({ serviceLevelSec: 20, shortAbandonSec: 5, tz: 'UTC' });
    expect(body.rows).toEqual([
      {
        period: null,
        key: null,
        calls: {
          inbound: 5,
          answered: 2,
          missed: 3,
          abandoned: 2,
          shortAbandoned: 1,
          outbound: 2,
          outboundAnswered: 1,
          inProgress: 1,
          answerRate: 0.4, // 2 / 5
          serviceLevel: 0.25, // 1 within 20 s / (5 − 1 short-abandoned)
          averageSpeedOfAnswerSec: 19, // (8 + 30) / 2
          averageTalkSec: 110, // (180 + 60 + 90) / 3
        },
        chats: { opened: 3, responded: 2, averageFirstResponseSec: 82.5, assigned: 1, averageTimeToAssignmentSec: 30 },
      },
    ]);
  });

  it('by hour (UTC) and by day in a time zone', async () => {
    const hours = (await stats('&bucket=hour')).rows;
    expect(hours.map((r) => r.period)).toEqual([`${DAY}T10:00:00.000Z`, `${DAY}T11:00:00.000Z`]);
    expect(hours[0]?.calls).toMatchObject({ inbound: 4, answered: 2, missed: 2, abandoned: 2, shortAbandoned: 1, outbound: 2, answerRate: 0.5, serviceLevel: 0.3333 });
    expect(hours[0]?.chats).toMatchObject({ opened: 2, responded: 1, averageFirstResponseSec: 45, assigned: 1 });
    expect(hours[1]?.calls).toMatchObject({ inbound: 1, answered: 0, missed: 1, abandoned: 0, inProgress: 1, answerRate: 0, serviceLevel: 0, averageSpeedOfAnswerSec: null });
    expect(hours[1]?.chats).toMatchObject({ opened: 1, averageFirstResponseSec: 120 });
    // 10:00–11:30 UTC is 02:00–03:30 in Los Angeles and 13:00–14:30 in Moscow: one day either way;
    // in Kiritimati (UTC+14) it is 00:00–01:30 of the next day.
    expect((await stats('&bucket=day&tz=Europe/Moscow')).rows.map((r) => [r.period, r.calls.inbound])).toEqual([[DAY, 5]]);
    expect((await stats('&bucket=day&tz=Pacific/Kiritimati')).rows.map((r) => [r.period, r.calls.inbound])).toEqual([['2026-12-02', 5]]);
  });

  it('by connector, by operator, and filtered by platform', async () => {
    const byConnector = (await stats('&by=connector')).rows;
    expect(byConnector.map((r) => [r.key, r.calls.inbound, r.calls.outbound, r.chats.opened])).toEqual([
      ['threads', 0, 0, 1],
      ['wa', 0, 2, 2],
      ['widget-web', 5, 0, 0],
    ]);
    const byOperator = (await stats('&by=operator')).rows;
    expect(byOperator.find((r) => r.key === 'threads:4')?.chats).toMatchObject({ opened: 1, assigned: 1, averageTimeToAssignmentSec: 30 });
    const widgetOnly = (await stats('&platform=widget')).rows;
    expect(widgetOnly.map((r) => [r.calls.inbound, r.calls.outbound, r.chats.opened])).toEqual([[5, 0, 0]]);
  });

  it('refuses a window that ends before it starts, and an unknown time zone, naming the field', async () => {
    const get = (q: string) => fetch(`${t.url}/v1/stats?${q}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const backwards = await get(`from=${DAY}T12:00:00Z&to=${DAY}T10:00:00Z`);
    expect(backwards.status).toBe(400);
    expect(((await backwards.json()) as { error: { message: string } }).error.message).toMatch(/at from: expected a time before to/);
    const zone = await get('tz=Mars/Olympus');
    expect(((await zone.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'SB_ERR_QUERY_INVALID', message: expect.stringMatching(/at tz: .*Mars\/Olympus/) });
    expect((await get('bucket=week')).status).toBe(400);
  });
});
