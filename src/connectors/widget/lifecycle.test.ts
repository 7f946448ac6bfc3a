import { describe, expect, it } from 'vitest';
import type { NormalizeContext, SwitchboardEvent } from '../../core/index.js';
import { reduceCall, reduceCalls, type CallEventLike, type CallState } from './lifecycle.js';
import { normalizeWidget } from './normalize.js';
import { WIDGET_SCENARIOS } from './scenarios.js';

const ctx: NormalizeContext = { connectorId: 'widget-web', receivedAt: '2026-01-01T00:00:00.000Z' };
let clock = 0;
/** A call event at second `sec` (distinct times unless given). */
function ev(type: string, sec = ++clock, data: Record<string, unknown> = {}): CallEventLike {
  return { type, time: new Date(Date.UTC(2026, 0, 15, 9, 0, sec)).toISOString(), data: { callId: 'c-1', ...data } };
}
function fold(events: CallEventLike[]): CallState | undefined {
  let s: CallState | undefined;
  for (const e of events) s = reduceCall(s, e);
  return s;
}

describe('widget call lifecycle', () => {
  it('follows an answered call from ringing to closed, with its times, rating and outcome', () => {
    const s = fold([ev('call.ringing', 1), ev('call.connecting', 2), ev('call.answered', 5), ev('call.finished', 60), ev('call.ended', 61, { outcome: 'answered', reason: 'finished' }), ev('call.rated', 70, { rating: 5 }), ev('call.closed', 75)]);
    expect(s).toMatchObject({ callId: 'c-1', phase: 'closed', outcome: 'answered', reason: 'finished', rating: 5, redirects: 0 });
    expect(s?.ringingAt).toBe('2026-01-15T09:00:01.000Z');
    expect(s?.answeredAt).toBe('2026-01-15T09:00:05.000Z');
    expect(s?.endedAt).toBe('2026-01-15T09:01:01.000Z');
    expect(s?.closedAt).toBe('2026-01-15T09:01:15.000Z');
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('ends a cancelled call as missed', () => {
    const s = fold([ev('call.ringing', 1), ev('call.ended', 30, { outcome: 'missed', reason: 'no-operator' }), ev('call.closed', 31)]);
    expect(s).toMatchObject({ phase: 'closed', outcome: 'missed', reason: 'no-operator' });
    expect(s?.answeredAt).toBeUndefined();
  });

  it('ignores a repeated state: an exact repeat gives the same object, a later one moves nothing', () => {
    const a = fold([ev('call.ringing', 1), ev('call.answered', 5)]);
    expect(reduceCall(a, ev('call.answered', 5))).toBe(a);
    const later = reduceCall(a, ev('call.answered', 6));
    expect(later).toMatchObject({ phase: 'connected', since: a?.since, answeredAt: '2026-01-15T09:00:05.000Z', updatedAt: '2026-01-15T09:00:06.000Z' });
  });

  it('never moves backwards: a late ringing after ended does not reopen the call, but its time still counts', () => {
    const ended = fold([ev('call.answered', 5), ev('call.ended', 60, { outcome: 'answered', reason: 'finished' })]);
    const late = reduceCall(ended, ev('call.ringing', 1));
    expect(late?.phase).toBe('ended');
    expect(late?.ringingAt).toBe('2026-01-15T09:00:01.000Z');
    expect(reduceCall(late, ev('call.connecting', 3))).toBe(late);
    const closed = reduceCall(late, ev('call.closed', 70));
    expect(reduceCall(closed, ev('call.ended', 61, { outcome: 'missed', reason: 'x' }))).toBe(closed);
    expect(closed?.outcome).toBe('answered');
  });

  it('takes late facts without moving: an answer that arrives after the end', () => {
    const s = fold([ev('call.ringing', 1), ev('call.ended', 60, { outcome: 'answered', reason: 'finished' }), ev('call.answered', 5)]);
    expect(s).toMatchObject({ phase: 'ended', answeredAt: '2026-01-15T09:00:05.000Z' });
  });

  it('cycles connected ⇄ redirected, counting redirects, and ignores a cycle step older than the current phase', () => {
    const s = fold([ev('call.ringing', 1), ev('call.answered', 5), ev('call.redirected', 30), ev('call.answered', 40)]);
    expect(s).toMatchObject({ phase: 'connected', redirects: 1, since: '2026-01-15T09:00:40.000Z', answeredAt: '2026-01-15T09:00:05.000Z' });
    // The redirect arrives after the answer that followed it: it stays behind.
    const outOfOrder = fold([ev('call.ringing', 1), ev('call.answered', 5), ev('call.answered', 40), ev('call.redirected', 30)]);
    expect(outOfOrder).toMatchObject({ phase: 'connected', redirects: 0 });
    const twice = fold([ev('call.answered', 5), ev('call.redirected', 30), ev('call.redirected', 30), ev('call.answered', 40), ev('call.redirected', 50)]);
    expect(twice).toMatchObject({ phase: 'redirecting', redirects: 2 });
  });

  it('keeps the first of disconnected and finished, then goes on to ended', () => {
    const s = fold([ev('call.answered', 5), ev('call.disconnected', 50), ev('call.finished', 51)]);
    expect(s?.phase).toBe('disconnected');
    expect(reduceCall(s, ev('call.ended', 52, { outcome: 'answered', reason: 'finished' }))?.phase).toBe('ended');
  });

  it('opens a call from a rating that arrives first, as ended; a skip after a rating changes nothing', () => {
    const s = fold([ev('call.rated', 70, { rating: 4 })]);
    expect(s).toMatchObject({ phase: 'ended', rating: 4 });
    const skippedAfter = reduceCall(s, ev('call.rating-skipped', 71));
    expect(skippedAfter).toMatchObject({ phase: 'ended', rating: 4 });
    expect(skippedAfter?.ratingSkipped).toBeUndefined();
    expect(fold([ev('call.rating-skipped', 70)])).toMatchObject({ phase: 'ended', ratingSkipped: true });
  });

  it('ignores events of other calls and of other types', () => {
    const s = fold([ev('call.ringing', 1)]);
    expect(reduceCall(s, { ...ev('call.answered', 2), data: { callId: 'other' } })).toBe(s);
    expect(reduceCall(s, { type: 'message.created', time: '2026-01-15T09:00:03.000Z', data: { callId: 'c-1' } })).toBe(s);
    expect(reduceCall(undefined, { type: 'call.ringing', time: 'x', data: {} })).toBeUndefined();
  });

  it('reduces every scenario (web and mobile, through the normalizer) to a closed call, shuffled or repeated alike', () => {
    for (const [name, sc] of Object.entries(WIDGET_SCENARIOS)) {
      for (const messages of [sc.web({ now: 1768469400000, stamped: true }), sc.mobile({ now: 1768469400000 })]) {
        const events: SwitchboardEvent[] = messages.flatMap((m) => normalizeWidget(m, ctx));
        const inOrder = [...reduceCalls(events).values()];
        expect(inOrder, name).toHaveLength(1);
        expect(inOrder[0]?.phase, name).toBe('closed');
        // Reversed and doubled: the call still ends closed with the same facts.
        const messy = [...reduceCalls([...events].reverse().concat(events)).values()][0];
        expect(messy?.phase, name).toBe('closed');
        expect(messy?.outcome, name).toBe(inOrder[0]?.outcome);
        expect(messy?.ringingAt, name).toBe(inOrder[0]?.ringingAt);
        expect(messy?.answeredAt, name).toBe(inOrder[0]?.answeredAt);
      }
    }
  });
});
