/**
 * Ordered mode: per subject, a later event is not sent before the earlier ones are delivered
 * (or exhausted), even while the receiver fails, times out and resets connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chatMessage, startDeliveryServer, type DeliveryBody, type DeliveryServer } from './helpers/delivery.js';
import { startReceiver, waitFor, type Answer, type Received, type Receiver } from './helpers/receiver.js';

/** A small deterministic generator, so that a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(schedule: string[]): Promise<{ s: DeliveryServer; r: Receiver }> {
  const r = await startReceiver();
  const s = await startDeliveryServer({ delivery: { retrySchedule: schedule, timeout: '150ms', concurrencyPerTarget: 8 } });
  cleanups.push(() => s.close(), () => r.close());
  return { s, r };
}

function seqOf(r: Received): number {
  return Number(r.event?.sequence);
}

describe('ordered mode', () => {
  it('delivers the events of each subject in sequence order despite 500s, timeouts and resets', async () => {
    const { s, r } = await setup(['0ms', ...Array<string>(40).fill('20ms')]);
    const random = rng(20240501);
    r.decide = (): Answer => {
      const x = random();
      if (x < 0.25) return { status: 500 };
      if (x < 0.35) return 'reset';
      if (x < 0.42) return { status: 200, delayMs: 400 }; // past the 150 ms timeout: a failure for Switchboard
      return { status: 200 };
    };
    const created = await s.api<{ secret: string }>('POST', '/v1/subscriptions', { id: 'ord', url: r.url, ordered: true });
    r.secrets = [created.json.secret];
    const chats = ['79002220001', '79002220002', '79002220003', '79002220004'];
    const perChat = 15;
    // Interleaved across chats, in several batches while earlier ones are being delivered.
    for (let batch = 0; batch < 5; batch++) {
      const payloads = [];
      for (let i = 0; i < perChat / 5; i++) for (const chat of chats) payloads.push(chatMessage(chat, `${chat}#${batch * 3 + i}`));
      await s.ingest(payloads);
      await new Promise((res) => setTimeout(res, 30));
    }
    const total = chats.length * perChat;
    await waitFor(() => r.deliveredIds().size === total, 30_000, () => `${r.deliveredIds().size}/${total} delivered`);

    // Per subject, what was accepted is exactly the subject's events, in sequence order, once each.
    const bySubject = new Map<string, number[]>();
    for (const x of r.received) {
      if (!x.ok || !x.event?.subject) continue;
      const list = bySubject.get(x.event.subject) ?? [];
      list.push(seqOf(x));
      bySubject.set(x.event.subject, list);
    }
    expect([...bySubject.keys()].sort()).toEqual(chats.map((c) => `conversation/${c}@c.us`).sort());
    for (const [subject, seqs] of bySubject) {
      expect(seqs, subject).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size, subject).toBe(perChat);
    }
    // No request of a subject was made for a later event while an earlier one was not yet accepted.
    const accepted = new Set<number>();
    const seqsBySubject = new Map<string, number[]>();
    for (const x of r.received) if (x.event?.subject) seqsBySubject.set(x.event.subject, [...(seqsBySubject.get(x.event.subject) ?? []), seqOf(x)]);
    for (const x of r.received) {
      const all = [...new Set(seqsBySubject.get(x.event?.subject ?? '') ?? [])].sort((a, b) => a - b);
      const earlier = all.filter((q) => q < seqOf(x));
      expect(earlier.every((q) => accepted.has(q)), `request for ${seqOf(x)} before ${earlier.filter((q) => !accepted.has(q)).join(',')} was delivered`).toBe(true);
      if (x.ok) accepted.add(seqOf(x));
    }
    // The failures did happen, and every request was signed and carried the event id.
    const failures = r.received.filter((x) => !x.ok).length;
    expect(failures).toBeGreaterThan(10);
    expect(r.received.every((x) => x.verifyError === undefined && x.webhookId === x.event?.id)).toBe(true);
    console.log(`ordered: ${total} events, ${r.received.length} requests, ${failures} failed answers`);
  });

  it('releases the next events of a subject once an earlier one is exhausted (it stays listed as failed)', async () => {
    const { s, r } = await setup(['0ms', '30ms', '30ms']);
    r.decide = ({ event }) => ((event?.data as { text?: string } | undefined)?.text === 'poison' ? { status: 500 } : { status: 200 });
    const created = await s.api<{ secret: string }>('POST', '/v1/subscriptions', { id: 'ord', url: r.url, ordered: true });
    r.secrets = [created.json.secret];
    await s.ingest([chatMessage('79002220009', 'first'), chatMessage('79002220009', 'poison'), chatMessage('79002220009', 'third'), chatMessage('79002220009', 'fourth')]);
    await waitFor(() => r.deliveredIds().size === 3, 10_000);
    const texts = r.received.map((x) => `${(x.event?.data as { text: string }).text}:${x.ok ? 'ok' : 'fail'}`);
    expect(texts).toEqual(['first:ok', 'poison:fail', 'poison:fail', 'poison:fail', 'third:ok', 'fourth:ok']);
    const failed = (await s.api<{ deliveries: DeliveryBody[] }>('GET', '/v1/subscriptions/ord/deliveries?status=failed')).json.deliveries;
    expect(failed).toHaveLength(1);
    expect(failed[0]?.attemptLog.map((a) => a.result)).toEqual(['failed', 'failed', 'exhausted']);
  });
});
