/**
 * Defect 1 (second half): a group commit shares one transaction across concurrent requests, so
 * nothing one request carries may fail another's events. A real Switchboard (SQLite file,
 * loopback HTTP) takes 50 good ingests in the same group as a bad one; the good ones commit and
 * resolve, only the bad one fails — its unstorable item kept in the quarantine where possible.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SwitchboardEvent } from '../src/core/index.js';
import type { CommitBatch, CommitResult } from '../src/server/store/types.js';
import { apiHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';
import { ev } from './store-conformance.js';

interface Committer {
  submit(batch: CommitBatch): Promise<CommitResult>;
}
interface QuarantinePage {
  items: { id: string; code: string; reason: string; raw: string }[];
}
interface EventsPage {
  events: { id: string; sequence: string; data: Record<string, unknown> }[];
}

/** Native payloads the store cannot write as JSON, each still a valid GREEN-API message (kept as the event's data.native). */
function unstorablePayloads(): Record<string, unknown>[] {
  const cycle = waMessage('cycle', 'BAD-CYCLE');
  cycle.self = cycle;
  let deep: unknown = 'bottom';
  for (let i = 0; i < 200_000; i++) deep = [deep];
  return [cycle, { ...waMessage('deep', 'BAD-DEEP'), deep }];
}

describe('group commit isolation', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const t of servers.splice(0)) await t.close();
  });
  const start = async () => {
    const t = await startTestServer();
    servers.push(t);
    return t;
  };
  const committerOf = (t: TestServer) => (t.sb as unknown as { committer: Committer }).committer;

  it('50 good ingests commit alongside payloads that cannot be stored as JSON (a cycle, 200,000 levels); only those fail, into the quarantine', async () => {
    const t = await start();
    const good = Array.from({ length: 50 }, (_, i) => waMessage(`good ${i}`, `GOOD-${i}`));
    // All submitted in one tick: one group commit.
    const goodAnswers = good.map((p) => t.sb.ingest('wa', p));
    const badAnswers = unstorablePayloads().map((p) => t.sb.ingest('wa', p));
    const settledGood = await Promise.allSettled(goodAnswers);
    const settledBad = await Promise.allSettled(badAnswers);

    expect(settledGood.filter((s) => s.status === 'rejected')).toEqual([]);
    for (const s of settledGood) expect(s.status === 'fulfilled' && s.value).toMatchObject({ accepted: 1, events: 1, rejected: [] });
    for (const s of settledBad) {
      expect(s.status).toBe('fulfilled');
      if (s.status !== 'fulfilled') continue;
      expect(s.value).toMatchObject({ accepted: 0, events: 0 });
      expect(s.value.rejected).toHaveLength(1);
      // The payload limits (server.limits) catch both before the commit: a cycle is not JSON, 200,000 levels are over the depth.
      expect(s.value.rejected[0]).toMatchObject({ index: 0, code: expect.stringMatching(/^SB_ERR_(INGEST_INVALID_PAYLOAD|INGEST_LIMIT|EVENT_INVALID)$/) });
      expect(s.value.rejected[0]?.reason).toMatch(/refers to itself|levels deep|cannot be stored as JSON/);
      expect(s.value.rejected[0]?.quarantineId).toMatch(/^\d+$/);
    }

    const page = (await (await fetch(`${t.url}/v1/events?limit=1000`, { headers: apiHeaders })).json()) as EventsPage;
    expect(page.events.map((e) => e.data.messageId).sort()).toEqual(good.map((p) => p.idMessage).sort());
    const q = (await (await fetch(`${t.url}/v1/quarantine`, { headers: apiHeaders })).json()) as QuarantinePage;
    expect(q.items).toHaveLength(2);
    // What can be shown of each payload is kept, the bad part marked — never "[object Object]".
    const raws = q.items.map((i) => i.raw).join('\n');
    for (const mark of ['BAD-CYCLE', '[circular]', 'BAD-DEEP', '[too deep]']) expect(raws).toContain(mark);
    // The server goes on committing.
    expect(await t.sb.ingest('wa', waMessage('after', 'AFTER-1'))).toMatchObject({ accepted: 1 });
  });

  it('an event whose data has a getter that throws is quarantined at submit; the other batches of its group commit', async () => {
    const t = await start();
    const committer = committerOf(t);
    const receivedAt = new Date().toISOString();
    const bad = ev();
    const native = { identity: 'BAD-GETTER' };
    Object.defineProperty(native, 'extra', { enumerable: true, get: () => { throw new Error('boom from a getter'); } });
    const withGetter = { ...bad, data: { ...bad.data, native } } as SwitchboardEvent;
    const goods = Array.from({ length: 50 }, () => committer.submit({ connectorId: 'wa', receivedAt, events: [ev()], quarantine: [] }));
    const mixed = committer.submit({ connectorId: 'wa', receivedAt, events: [ev(), withGetter, ev()], quarantine: [] });
    for (const r of await Promise.all(goods)) expect(r.stored[0]?.seq).toBeGreaterThan(0);
    const r = await mixed;
    expect(r.stored.map(Boolean)).toEqual([true, false, true]);
    expect(r.invalid).toEqual([{ index: 1, code: 'SB_ERR_EVENT_INVALID', reason: 'the event cannot be stored as JSON: boom from a getter', quarantineId: expect.stringMatching(/^\d+$/) as unknown }]);
    const q = (await (await fetch(`${t.url}/v1/quarantine`, { headers: apiHeaders })).json()) as QuarantinePage;
    expect(q.items).toHaveLength(1);
    expect(q.items[0]?.id).toBe(r.invalid?.[0]?.quarantineId);
    expect(q.items[0]?.raw).toContain('"extra":"[getter failed: boom from a getter]"');
    expect(q.items[0]?.raw).toContain('BAD-GETTER');
  });

  it('a batch the store fails inside the transaction fails alone: 50 good batches in the same group commit, in order', async () => {
    const t = await start();
    const committer = committerOf(t);
    const receivedAt = new Date().toISOString();
    const batch = (events: SwitchboardEvent[], extra: Partial<CommitBatch> = {}): CommitBatch => ({ connectorId: 'wa', receivedAt, events, quarantine: [], ...extra });
    const goodEvents = Array.from({ length: 50 }, () => [ev(), ev()]);
    const goods = goodEvents.slice(0, 25).map((e) => committer.submit(batch(e)));
    // A quarantine entry without raw breaks a NOT NULL constraint in the middle of the group.
    const culprit = committer.submit(batch([ev()], { quarantine: [{ connectorId: 'wa', receivedAt, code: 'SB_ERR_INGEST_MALFORMED', reason: 'x', raw: null as unknown as string }] }));
    goods.push(...goodEvents.slice(25).map((e) => committer.submit(batch(e))));

    const culpritError = culprit.then(() => undefined, (err: unknown) => err);
    const results = await Promise.all(goods);
    expect(await culpritError).toMatchObject({ code: 'SB_ERR_STORE', message: expect.stringMatching(/not[ -]null/i) as unknown });
    const seqs = results.flatMap((r) => r.stored.map((s) => s?.seq ?? -1));
    expect(seqs.every((s) => s > 0)).toBe(true);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b)); // the good ones keep their submit order
    const page = (await (await fetch(`${t.url}/v1/events?limit=1000`, { headers: apiHeaders })).json()) as EventsPage;
    expect(page.events.map((e) => e.id)).toEqual(goodEvents.flat().map((e) => e.id));
    // Nothing of the culprit's batch was stored.
    expect((await (await fetch(`${t.url}/v1/quarantine`, { headers: apiHeaders })).json()) as QuarantinePage).toMatchObject({ items: [] });
  });
});
