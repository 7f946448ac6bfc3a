/**
 * Replay: `POST /v1/subscriptions/:id/replay` enqueues exactly the chosen range again (by
 * sequence or by event time, within the subscription's filters): new attempts, the same
 * `webhook-id` per event.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { callOffer, chatMessage, startDeliveryServer, type DeliveryBody, type DeliveryServer, type ErrorBody } from './helpers/delivery.js';
import { startReceiver, waitFor, type Receiver } from './helpers/receiver.js';

const T0 = 1_710_000_000;

describe('replay', () => {
  let s: DeliveryServer;
  let all: Receiver;
  let messages: Receiver;
  /** Event id by sequence, as first delivered. */
  const firstIds = new Map<number, string>();
  const timeOf = new Map<number, string>();

  /** Waits until Switchboard recorded every delivery: none pending (a replay leaves a pending row as it is). */
  const noPending = async () => {
    for (const id of ['all', 'messages']) await waitFor(async () => (await s.api<{ deliveries: { pending: number } }>('GET', `/v1/subscriptions/${id}`)).json.deliveries.pending === 0, 10_000);
  };

  beforeAll(async () => {
    all = await startReceiver();
    messages = await startReceiver();
    s = await startDeliveryServer();
    const a = await s.api<{ secret: string }>('POST', '/v1/subscriptions', { id: 'all', url: all.url });
    const m = await s.api<{ secret: string }>('POST', '/v1/subscriptions', { id: 'messages', url: messages.url, filters: { types: ['message.*'] } });
    all.secrets = [a.json.secret];
    messages.secrets = [m.json.secret];
    // 30 events, one minute apart: messages, with a call every third.
    const payloads = Array.from({ length: 30 }, (_, i) => (i % 3 === 2 ? callOffer(`RPL-${i}`, T0 + i * 60) : chatMessage(`7900333000${i % 4}`, `m${i}`, `RPL-M-${i}`, T0 + i * 60)));
    await s.ingest(payloads);
    await waitFor(() => all.deliveredIds().size === 30 && messages.deliveredIds().size === 20, 10_000);
    await noPending();
    for (const x of all.received) {
      firstIds.set(Number(x.event?.sequence), x.webhookId);
      timeOf.set(Number(x.event?.sequence), String(x.event?.time));
    }
  });
  afterAll(async () => {
    await s.close();
    await all.close();
    await messages.close();
  });
  beforeEach(() => {
    all.received.length = 0;
    messages.received.length = 0;
  });

  const seqs = (r: Receiver) => r.received.map((x) => Number(x.event?.sequence)).sort((a, b) => a - b);
  /**
   * The receivers saw every request; Switchboard records each answer after that: wait until it
   * did, then a little more, so that a request sent twice would have arrived.
   */
  const settle = async () => {
    await noPending();
    await new Promise((res) => setTimeout(res, 300));
  };

  it('re-sends exactly a range of sequences, with the same webhook-id per event', async () => {
    const sorted = [...firstIds.keys()].sort((a, b) => a - b);
    const from = sorted[5] as number;
    const to = sorted[16] as number;
    const res = await s.api<{ enqueued: number; matched: number; alreadyPending: number }>('POST', '/v1/subscriptions/all/replay', { fromSequence: from, toSequence: String(to) });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ enqueued: 12, matched: 12, alreadyPending: 0, fromSequence: from, toSequence: to });
    await waitFor(() => all.received.length >= 12, 10_000);
    await settle();
    expect(seqs(all)).toEqual(sorted.slice(5, 17));
    for (const x of all.received) {
      expect(x.ok).toBe(true);
      expect(x.verifyError).toBeUndefined();
      expect(x.webhookId).toBe(firstIds.get(Number(x.event?.sequence)));
      expect(x.webhookId).toBe(x.event?.id);
    }
    expect(messages.received).toHaveLength(0);
    // The deliveries show a second round.
    const rows = (await s.api<{ deliveries: DeliveryBody[] }>('GET', '/v1/subscriptions/all/deliveries?limit=1000')).json.deliveries;
    expect(rows.filter((d) => d.round === 2).map((d) => Number(d.sequence))).toEqual(sorted.slice(5, 17));
    expect(rows.filter((d) => d.round === 2).every((d) => d.status === 'delivered' && d.attemptLog.length === 2)).toBe(true);
  });

  it('re-sends exactly a range of event times', async () => {
    const fromTime = new Date((T0 + 10 * 60) * 1000).toISOString();
    const toTime = new Date((T0 + 14 * 60) * 1000).toISOString();
    const res = await s.api<{ enqueued: number }>('POST', '/v1/subscriptions/all/replay', { fromTime, toTime });
    expect(res.json.enqueued).toBe(5);
    await waitFor(() => all.received.length >= 5, 10_000);
    await settle();
    const times = all.received.map((x) => Date.parse(String(x.event?.time))).sort((a, b) => a - b);
    expect(times).toEqual([10, 11, 12, 13, 14].map((i) => (T0 + i * 60) * 1000));
  });

  it('applies the subscription filters to the range', async () => {
    const res = await s.api<{ enqueued: number }>('POST', '/v1/subscriptions/messages/replay', { fromTime: new Date(T0 * 1000).toISOString(), toTime: new Date((T0 + 8 * 60) * 1000).toISOString() });
    // Events 0..8: messages 0, 1, 3, 4, 6, 7 (2, 5, 8 are calls).
    expect(res.json.enqueued).toBe(6);
    await waitFor(() => messages.received.length >= 6, 10_000);
    await settle();
    expect(messages.received.map((x) => (x.event?.data as { text: string }).text).sort()).toEqual(['m0', 'm1', 'm3', 'm4', 'm6', 'm7']);
    expect(all.received).toHaveLength(0);
  });

  it('with no bounds, re-sends everything; combined bounds intersect', async () => {
    const sorted = [...firstIds.keys()].sort((a, b) => a - b);
    const res = await s.api<{ enqueued: number }>('POST', '/v1/subscriptions/all/replay', { fromSequence: sorted[20], toTime: new Date((T0 + 22 * 60) * 1000).toISOString() });
    expect(res.json.enqueued).toBe(3);
    await waitFor(() => all.received.length >= 3, 10_000);
    await settle();
    expect(seqs(all)).toEqual(sorted.slice(20, 23));
    all.received.length = 0;
    const everything = await s.api<{ enqueued: number }>('POST', '/v1/subscriptions/all/replay', {});
    expect(everything.json.enqueued).toBe(30);
    await waitFor(() => all.received.length >= 30, 10_000);
    await settle();
    expect(seqs(all)).toEqual(sorted);
  });

  it('refuses a bad range with 400 naming the field, and an unknown subscription with 404', async () => {
    const bad: [unknown, RegExp][] = [
      [{ fromSequence: 9, toSequence: 3 }, /toSequence: expected a sequence >= fromSequence \(9\), found 3/],
      [{ fromSequence: -1 }, /at fromSequence: expected a sequence/],
      [{ fromTime: 'yesterday' }, /at fromTime: expected an ISO 8601 time/],
      [{ fromTime: '2024-05-02T00:00:00Z', toTime: '2024-05-01T00:00:00Z' }, /toTime: expected a time not before fromTime/],
      [{ since: 1 }, /since/],
    ];
    for (const [body, message] of bad) {
      const res = await s.api<ErrorBody>('POST', '/v1/subscriptions/all/replay', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('SB_ERR_SUBSCRIPTION_INVALID');
      expect(res.json.error.message).toMatch(message);
    }
    expect((await s.api<ErrorBody>('POST', '/v1/subscriptions/nope/replay', {})).status).toBe(404);
  });
});
