/**
 * The call widget's call lifecycle (PLATFORMS.md "Call widget"), as a pure reducer over
 * normalized events:
 *
 *     ringing → (cancelled | [start →] connected) → (redirected → connected)* →
 *       disconnected/finish → ended → closed
 *
 * A widget repeats itself and its messages may arrive out of order (a page relays them, an app
 * queues them offline), so the reducer is tolerant: a repeated state does not move the call, a
 * call never moves backwards (a late `ringing` after `ended` does not reopen it), and inside the
 * connected ⇄ redirected cycle an event older than the latest one seen is ignored. Facts still
 * count when they come late: each milestone time (`ringingAt`, `answeredAt`, `endedAt`,
 * `closedAt`) is the earliest seen, so a late `call.answered` after `call.ended` sets
 * `answeredAt`; the outcome is the first `call.ended`'s.
 *
 * Pure: no clock, no I/O; used by the browser module (`listener.calls()`) and meant for the
 * server's calls projection.
 */
import type { CallOutcome } from '../../core/index.js';

/** Where a call is. `connecting` is the mobile `START`; `redirecting` the `redirected` state. */
export type CallPhase = 'ringing' | 'connecting' | 'connected' | 'redirecting' | 'disconnected' | 'finished' | 'ended' | 'closed';

/** One call as the reducer sees it. */
export interface CallState {
  readonly callId: string;
  readonly phase: CallPhase;
  /** Platform time at which the current phase began. */
  readonly since: string;
  /** From `call.ended`: `answered`, or `missed` for a cancelled call. */
  readonly outcome?: CallOutcome;
  /** From `call.ended`: `finished`, `cancelled`, `no-operator`, … */
  readonly reason?: string;
  readonly ringingAt?: string;
  readonly answeredAt?: string;
  readonly endedAt?: string;
  readonly closedAt?: string;
  /** Redirects to another operator seen so far. */
  readonly redirects: number;
  readonly rating?: number;
  readonly ratingSkipped?: boolean;
  /** The latest platform time of any event applied. */
  readonly updatedAt: string;
}

/** What the reducer reads of an event: a normalized event or a stored one. */
export interface CallEventLike {
  readonly type: string;
  readonly time: string;
  readonly data: unknown;
}

const PHASE_OF: Readonly<Record<string, CallPhase>> = {
  'call.ringing': 'ringing',
  'call.connecting': 'connecting',
  'call.answered': 'connected',
  'call.redirected': 'redirecting',
  'call.disconnected': 'disconnected',
  'call.finished': 'finished',
  'call.ended': 'ended',
  'call.closed': 'closed',
};

/** Order of the phases; equal ranks are alternatives (disconnected/finish) or the redirect cycle. */
const RANK: Readonly<Record<CallPhase, number>> = {
  ringing: 0,
  connecting: 1,
  connected: 2,
  redirecting: 2,
  disconnected: 3,
  finished: 3,
  ended: 4,
  closed: 5,
};

/** Earliest of two ISO times (either may be missing). */
function earliest(a: string | undefined, b: string): string {
  return a !== undefined && a <= b ? a : b;
}

function field(data: unknown, key: string): unknown {
  return data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[key] : undefined;
}

/**
 * The next state of a call after one event, or the same object when the event changes nothing
 * (another call's event, a type that is not a call's, an exact repeat, a step backwards that
 * brings no earlier time).
 * `state` undefined: the event opens the call (a rating arriving first opens it as ended).
 *
 * @example
 * let call: CallState | undefined;
 * for (const e of events) call = reduceCall(call, e);
 * call?.phase; // 'closed'
 */
export function reduceCall(state: CallState | undefined, event: CallEventLike): CallState | undefined {
  const callId = field(event.data, 'callId');
  if (typeof callId !== 'string' || (state !== undefined && state.callId !== callId)) return state;
  const rated = event.type === 'call.rated';
  const skipped = event.type === 'call.rating-skipped';
  const target = PHASE_OF[event.type] ?? (rated || skipped ? 'ended' : undefined);
  if (target === undefined) return state;
  const t = event.time;

  let next: CallState =
    state ?? { callId, phase: target, since: t, redirects: target === 'redirecting' ? 1 : 0, updatedAt: t };
  if (state !== undefined && PHASE_OF[event.type] !== undefined) {
    const from = RANK[state.phase];
    const to = RANK[target];
    // Forward always; sideways only inside the redirect cycle, and only for an event not older
    // than the latest one seen (a redirect overtaken by the `connected` after it stays behind).
    const moves = to > from || (to === 2 && from === 2 && target !== state.phase && t >= state.updatedAt);
    if (moves) next = { ...state, phase: target, since: t, redirects: state.redirects + (target === 'redirecting' ? 1 : 0) };
  }

  // Facts, whether or not the phase moved: the earliest time of each milestone.
  const facts: { -readonly [K in keyof CallState]?: CallState[K] } = {};
  const milestone = ({ 'call.ringing': 'ringingAt', 'call.answered': 'answeredAt', 'call.ended': 'endedAt', 'call.closed': 'closedAt' } as const)[event.type as 'call.ringing'];
  if (milestone && (next[milestone] === undefined || t < next[milestone])) facts[milestone] = t;
  if (event.type === 'call.ended' && next.outcome === undefined) {
    const outcome = field(event.data, 'outcome');
    const reason = field(event.data, 'reason');
    if (typeof outcome === 'string') facts.outcome = outcome as CallOutcome;
    if (typeof reason === 'string') facts.reason = reason;
  }
  if (rated) {
    const rating = field(event.data, 'rating');
    if (typeof rating === 'number' && rating !== next.rating) facts.rating = rating;
  }
  if (skipped && next.ratingSkipped !== true && next.rating === undefined) facts.ratingSkipped = true;
  if (t > next.updatedAt) facts.updatedAt = t;

  if (Object.keys(facts).length > 0) next = { ...next, ...facts };
  return next === state ? state : Object.freeze(next);
}

/**
 * Folds events into their calls, in the order given, keyed by `callId`.
 *
 * @example
 * const calls = reduceCalls(events); calls.get('c-1')?.phase;
 */
export function reduceCalls(events: Iterable<CallEventLike>, into: Map<string, CallState> = new Map()): Map<string, CallState> {
  for (const e of events) {
    const callId = field(e.data, 'callId');
    if (typeof callId !== 'string') continue;
    const next = reduceCall(into.get(callId), e);
    if (next) into.set(callId, next);
  }
  return into;
}
