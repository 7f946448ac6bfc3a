import { describe, expect, it } from 'vitest';
import { normalizeConnect1c } from '../src/connectors/connect1c/normalize.js';
import { scenarioEvents } from '../src/connectors/connect1c/scenarios.js';
import { normalizeGreenApi } from '../src/connectors/greenapi/normalize.js';
import { SCENARIOS as GREENAPI } from '../src/connectors/greenapi/scenarios.js';
import { normalizeWidget } from '../src/connectors/widget/normalize.js';
import { WIDGET_SCENARIOS } from '../src/connectors/widget/scenarios.js';
import { foldCall, type CallEventLike } from '../src/core/calls.js';
import type { NormalizeContext, SwitchboardEvent } from '../src/core/index.js';

const ctx: NormalizeContext = { connectorId: 'widget-web', receivedAt: '2026-01-01T00:00:00.000Z' };
let n = 0;
/** A call event at second `sec`; `seq` its arrival in the store. */
function ev(type: string, sec: number, data: Record<string, unknown> = {}, seq?: number): CallEventLike {
  n++;
  return { id: `e-${n}`, type, platform: 'widget', time: new Date(Date.UTC(2026, 0, 15, 9, 0, sec)).toISOString(), data: { callId: 'c-1', ...data }, ...(seq === undefined ? {} : { sequence: String(seq).padStart(16, '0') }) };
}
const fold = (events: CallEventLike[]) => foldCall('widget-web', 'c-1', events);

describe('the call model (one fold for the server and the browser module)', () => {
  it('follows an answered call from ringing to closed, with its times, durations, rating and outcome', () => {
    const s = fold([ev('call.ringing', 1), ev('call.connecting', 2), ev('call.answered', 5), ev('call.finished', 60), ev('call.ended', 61, { outcome: 'answered', reason: 'finished' }), ev('call.rated', 70, { rating: 5 }), ev('call.closed', 75)]);
    expect(s).toMatchObject({ id: 'widget-web:c-1', callId: 'c-1', state: 'closed', outcome: 'answered', reason: 'finished', rating: 5, redirects: 0 });
    expect(s?.ringingAt).toBe('2026-01-15T09:00:01.000Z');
    expect(s?.answeredAt).toBe('2026-01-15T09:00:05.000Z');
    expect(s?.endedAt).toBe('2026-01-15T09:01:01.000Z');
    expect(s?.closedAt).toBe('2026-01-15T09:01:15.000Z');
    // Derived from the times: ringing → end 60 s, answer → finish 55 s.
    expect(s).toMatchObject({ durationSec: 60, talkSec: 55 });
  });

  it('prefers the durations the platform gives over derived ones', () => {
    const s = fold([ev('call.ringing', 1), ev('call.answered', 5), ev('call.ended', 61, { outcome: 'answered', reason: 'finished', durationSec: 58, talkSec: 50 })]);
    expect(s).toMatchObject({ durationSec: 58, talkSec: 50 });
  });

  it('ends a cancelled call as missed, with no talk time', () => {
    const s = fold([ev('call.ringing', 1), ev('call.ended', 30, { outcome: 'missed', reason: 'no-operator' }), ev('call.closed', 31)]);
    expect(s).toMatchObject({ state: 'closed', outcome: 'missed', reason: 'no-operator', durationSec: 29, talkSec: 0 });
    expect(s?.answeredAt).toBeUndefined();
  });

  it('never moves backwards: a late ringing after ended does not reopen the call, but its time still counts', () => {
    const s = fold([ev('call.answered', 5), ev('call.ended', 60, { outcome: 'answered', reason: 'finished' }), ev('call.ringing', 1), ev('call.connecting', 3)]);
    expect(s?.state).toBe('ended');
    expect(s?.ringingAt).toBe('2026-01-15T09:00:01.000Z');
    const closed = fold([ev('call.answered', 5), ev('call.ended', 60, { outcome: 'answered', reason: 'finished' }), ev('call.closed', 70), ev('call.ended', 61, { outcome: 'missed', reason: 'x' })]);
    expect(closed).toMatchObject({ state: 'closed', outcome: 'answered' });
  });

  it('never moves backwards on a platform clock that disagrees: an answer stamped before the ringing', () => {
    expect(fold([ev('call.ringing', 10), ev('call.answered', 5)])?.state).toBe('answered');
  });

  it('takes late facts: an answer that arrives after the end', () => {
    const s = fold([ev('call.ringing', 1), ev('call.ended', 60, { outcome: 'answered', reason: 'finished' }), ev('call.answered', 5)]);
    expect(s).toMatchObject({ state: 'ended', answeredAt: '2026-01-15T09:00:05.000Z', talkSec: 55 });
  });

  it('cycles answered ⇄ redirected by time, counting every redirect whatever its arrival', () => {
    const s = fold([ev('call.ringing', 1), ev('call.answered', 5), ev('call.redirected', 30), ev('call.answered', 40)]);
    expect(s).toMatchObject({ state: 'answered', redirects: 1, answeredAt: '2026-01-15T09:00:05.000Z' });
    const outOfOrder = fold([ev('call.ringing', 1), ev('call.answered', 5), ev('call.answered', 40), ev('call.redirected', 30)]);
    expect(outOfOrder).toMatchObject({ state: 'answered', redirects: 1 });
    expect(fold([ev('call.answered', 5), ev('call.redirected', 30), ev('call.answered', 40), ev('call.redirected', 50)])).toMatchObject({ state: 'redirected', redirects: 2 });
  });

  it('goes from disconnected to finished to ended, and measures the talk to the first of them', () => {
    const s = fold([ev('call.answered', 5), ev('call.disconnected', 50), ev('call.finished', 51)]);
    expect(s?.state).toBe('finished');
    expect(s?.endedAt).toBe('2026-01-15T09:00:50.000Z');
    expect(fold([ev('call.answered', 5), ev('call.disconnected', 50), ev('call.ended', 52, { outcome: 'answered', reason: 'finished' })])).toMatchObject({ state: 'ended', talkSec: 45 });
  });

  it('opens a call from a rating that arrives first, as ended; a skip beside a rating changes nothing', () => {
    expect(fold([ev('call.rated', 70, { rating: 4 })])).toMatchObject({ state: 'ended', rating: 4 });
    const both = fold([ev('call.rated', 70, { rating: 4 }), ev('call.rating-skipped', 71)]);
    expect(both?.ratingSkipped).toBeUndefined();
    expect(fold([ev('call.rating-skipped', 70)])).toMatchObject({ state: 'ended', ratingSkipped: true });
  });

  it('breaks ties of equal platform times by arrival: the store sequence, else the order given', () => {
    const a = ev('call.rated', 70, { rating: 2 }, 2);
    const b = ev('call.rated', 70, { rating: 5 }, 9);
    expect(fold([b, a])?.rating).toBe(5);
    expect(fold([a, b])?.rating).toBe(5);
    const { sequence: _a, ...a0 } = a;
    const { sequence: _b, ...b0 } = b;
    expect(fold([b0, a0])?.rating).toBe(2);
  });

  it('ignores events of other types and has no call without call events', () => {
    expect(fold([{ ...ev('message.created', 3), type: 'message.created' }])).toBeUndefined();
  });

  it('folds every widget scenario (web and mobile) to a closed call with durations, shuffled or repeated alike', () => {
    for (const [name, sc] of Object.entries(WIDGET_SCENARIOS)) {
      for (const messages of [sc.web({ now: 1768469400000, stamped: true }), sc.mobile({ now: 1768469400000 })]) {
        const events: SwitchboardEvent[] = messages.flatMap((m) => normalizeWidget(m, ctx));
        const callId = (events[0]?.data as { callId: string }).callId;
        const inOrder = foldCall('widget-web', callId, events);
        expect(inOrder?.state, name).toBe('closed');
        expect(inOrder?.durationSec, name).toEqual(expect.any(Number));
        expect(inOrder?.talkSec, name).toEqual(expect.any(Number));
        const messy = foldCall('widget-web', callId, [...events].reverse().concat(events));
        expect(messy, name).toEqual(inOrder);
      }
    }
  });

  it('derives durations for GREEN-API and 1С-Коннект calls from the times they give', () => {
    const wa = GREENAPI['answered-call']!.notifications({ idInstance: '1101', wid: '79876543210@c.us', now: Date.parse('2026-03-02T09:00:00Z') }).flatMap((p) => normalizeGreenApi(p, { connectorId: 'wa', receivedAt: '2026-03-02T09:10:00Z' }));
    const waCall = wa.find((e) => e.type === 'call.ringing');
    const call = foldCall('wa', (waCall?.data as { callId: string }).callId, wa.filter((e) => e.subject === waCall?.subject));
    expect(call).toMatchObject({ outcome: 'answered', durationSec: expect.any(Number), talkSec: expect.any(Number) });
    expect(call?.durationSec).toBeGreaterThan(call?.talkSec ?? Infinity);
    const c1 = scenarioEvents('answered-call', { now: Date.parse('2026-03-02T09:00:00Z') }).flatMap((x) => normalizeConnect1c(x, { connectorId: '1c', receivedAt: '2026-03-02T09:10:00Z' }));
    const ring = c1.find((e) => e.type === 'call.ringing');
    const c1Call = foldCall('1c', (ring?.data as { callId: string }).callId, c1.filter((e) => e.subject === ring?.subject));
    expect(c1Call).toMatchObject({ outcome: 'answered', durationSec: expect.any(Number), talkSec: expect.any(Number) });
  });
});

describe('the page and the server agree on a call', () => {
  it('listener.calls() in the page and GET /v1/calls on the server give the same call, for messages heard out of order and repeated', async () => {
    const { createListener } = await import('../src/client/index.js');
    const { INGEST_TOKEN, apiHeaders, startTestServer } = await import('./helpers/sb.js');
    const srv = await startTestServer({ connectors: [{ id: 'widget-app', platform: 'widget', ingestToken: INGEST_TOKEN }] });
    try {
      const l = createListener({ forward: { widget: { url: srv.url, connectorId: 'widget-app', token: INGEST_TOKEN, flushMs: 600_000 } } });
      for (const [name, sc] of Object.entries(WIDGET_SCENARIOS)) {
        const messages = sc.mobile({ now: Date.parse('2026-03-02T09:00:00Z') + name.length * 3_600_000 });
        // Heard late, early and twice: the ringing last, the whole call again after it.
        for (const m of [...messages.slice(1), messages[0], ...messages]) l.handle(m);
      }
      await l.flush();
      const calls = l.calls();
      expect(calls).toHaveLength(Object.keys(WIDGET_SCENARIOS).length);
      for (const call of calls) {
        const res = await fetch(`${srv.url}/v1/calls/${encodeURIComponent(call.id)}`, { headers: apiHeaders });
        expect(res.status, call.id).toBe(200);
        expect(((await res.json()) as { call: unknown }).call, call.id).toEqual(call);
      }
      await l.close();
    } finally {
      await srv.close();
    }
  });
});
