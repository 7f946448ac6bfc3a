/**
 * The one call model: a pure fold over the set of a call's events, used by the server's calls
 * projection (`GET /v1/calls`) and by the browser module (`listener.calls()`), so that the page
 * and the server always say the same of the same call.
 */
import type { CallOutcome, Party } from './catalog.js';
import { compact, finite, str } from './kit.js';
import { canonicalOrder, type OrderedEventLike } from './order.js';

/** Where a call is: the phase of the latest lifecycle event, never moving backwards. */
export const CALL_STATES = ['ringing', 'connecting', 'answered', 'redirected', 'disconnected', 'finished', 'ended', 'closed'] as const;
export type CallState = (typeof CALL_STATES)[number];

/** What the fold reads of an event: a normalized event or a stored one. */
export interface CallEventLike extends OrderedEventLike {
  readonly platform: string;
  readonly data: unknown;
}

/** One call, as the server's projection and the browser module both give it. */
export interface Call {
  /** `<connectorId>:<callId>`: the id `GET /v1/calls/:id` takes. */
  readonly id: string;
  readonly connectorId: string;
  readonly platform: string;
  readonly callId: string;
  readonly state: CallState;
  readonly direction?: string;
  readonly from?: Party;
  readonly to?: Party;
  readonly operator?: Party;
  /** The platform's key of the chat the call belongs to (GREEN-API, 1С-Коннект). */
  readonly conversationId?: string;
  /** `<connectorId>:<conversationId>`: the id `GET /v1/conversations/:id` and its timeline take. */
  readonly conversation?: string;
  readonly video?: boolean;
  readonly outcome?: CallOutcome;
  readonly reason?: string;
  readonly ringingAt?: string;
  readonly answeredAt?: string;
  readonly endedAt?: string;
  readonly closedAt?: string;
  /** From ringing to the end: the platform's figure, else derived from `ringingAt` and `endedAt`. */
  readonly durationSec?: number;
  /** From the answer to the end of the talk: the platform's figure, else derived from the times; 0 for an unanswered call. */
  readonly talkSec?: number;
  readonly rating?: number;
  readonly ratingScale?: number;
  readonly ratingComment?: string;
  readonly ratingSkipped?: boolean;
  readonly recordingUrl?: string;
  readonly redirects: number;
  readonly lastEventAt: string;
  readonly events: number;
}

/** Lifecycle rank: orders events at the same instant, and a state never goes to a lower rank. */
export const CALL_RANK: Readonly<Record<string, number>> = {
  'call.ringing': 1,
  'call.connecting': 2,
  'call.answered': 3,
  'call.redirected': 3,
  'call.disconnected': 5,
  'call.finished': 6,
  'call.recording-ready': 7,
  'call.ended': 8,
  'call.rated': 9,
  'call.rating-skipped': 9,
  'call.closed': 10,
};

const STATE_OF: Readonly<Record<string, CallState>> = {
  'call.ringing': 'ringing',
  'call.connecting': 'connecting',
  'call.answered': 'answered',
  'call.redirected': 'redirected',
  'call.disconnected': 'disconnected',
  'call.finished': 'finished',
  'call.ended': 'ended',
  'call.closed': 'closed',
};

type Data = Readonly<Record<string, unknown>>;

function dataOf(e: CallEventLike): Data {
  return e.data !== null && typeof e.data === 'object' ? (e.data as Data) : {};
}


function party(v: unknown): Party | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Party) : undefined;
}

/** Whole seconds from `a` to `b`, or undefined when either is missing or `b` is before `a`. */
function secondsBetween(a: string | undefined, b: string | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  const ms = Date.parse(b) - Date.parse(a);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms / 1000) : undefined;
}

/**
 * Names a party from the contact book (caller names): a looked-up name wins over the one the
 * event carried, unless the lookup found only the number.
 *
 * @example namedParty({ id: '79001234567@c.us' }, new Map([['79001234567@c.us', 'Иван']])) // → { id, name: 'Иван' }
 */
export function namedParty(p: Party | undefined, names: ReadonlyMap<string, string>): Party | undefined {
  if (!p?.id) return p;
  const name = names.get(p.id);
  if (!name || /^\+?\d+$/.test(name)) return p;
  return { ...p, name };
}

/** What a fold keeps of the events it has seen, to know whether a new one goes after all of them. */
export interface FoldTail {
  /** The greatest (time, rank) among the folded events that carry a platform time. */
  readonly time?: string;
  readonly rank?: number;
}

/**
 * Whether `e`, newer (by arrival) than every folded event, goes last in `canonicalOrder`: a
 * receipt-time event always does (it follows the last event that arrived before it); a timed one
 * does unless some folded timed event is later in (time, rank). Then the fold of the set with `e`
 * is the fold of the set followed by one step with `e`.
 */
export function appendsAfter(tail: FoldTail, e: OrderedEventLike, rank: Readonly<Record<string, number>>): boolean {
  if (e.timesource === 'receipt' || tail.time === undefined) return true;
  return e.time > tail.time || (e.time === tail.time && (rank[e.type] ?? 0) >= (tail.rank ?? 0));
}

/** The tail after folding `e`. */
export function tailWith(tail: FoldTail, e: OrderedEventLike, rank: Readonly<Record<string, number>>): FoldTail {
  return appendsAfter(tail, e, rank) && e.timesource !== 'receipt' ? { time: e.time, rank: rank[e.type] ?? 0 } : tail;
}

/**
 * The state of the call fold after some of a call's events in canonical order: what `finishCall`
 * needs, and nothing of the events' native payloads. Plain JSON, so that a store keeps it beside
 * the call's row and folds a new event into it (`stepCall`) instead of re-reading the call.
 */
export interface CallFold {
  readonly tail: FoldTail;
  readonly platform: string;
  readonly direction?: string;
  readonly from?: Party;
  readonly to?: Party;
  readonly operator?: Party;
  readonly conversationId?: string;
  readonly video?: boolean;
  /** The first `call.ended`: its time and what the row takes of its data. */
  readonly ended?: { readonly time: string; readonly outcome?: string; readonly reason?: string; readonly answeredAt?: string; readonly startedAt?: string; readonly endedAt?: string; readonly durationSec?: number; readonly talkSec?: number };
  /** The last `call.rated`'s data. */
  readonly rated?: { readonly rating?: number; readonly scale?: number; readonly comment?: string };
  readonly skipped?: boolean;
  readonly recordingUrl?: string;
  readonly ringingAt?: string;
  readonly answeredAt?: string;
  readonly talkEndedAt?: string;
  readonly closedAt?: string;
  readonly redirects: number;
  /** The type of the event that set the state. */
  readonly stateType?: string;
  readonly lastEventAt: string;
  readonly events: number;
}


/**
 * Folds one more event, later in canonical order than every event of `s`, into the call's state
 * (events of other types leave it as it is). `foldCall` is these steps over the ordered set.
 */
export function stepCall(s: CallFold | undefined, e: CallEventLike): CallFold | undefined {
  if (!e.type.startsWith('call.')) return s;
  const d = dataOf(e);
  let { ringingAt, answeredAt, talkEndedAt, closedAt, ended, rated, skipped, recordingUrl, redirects = 0, stateType } = s ?? {};
  switch (e.type) {
    case 'call.ringing':
      ringingAt ??= str(d.startedAt) ?? e.time;
      break;
    case 'call.answered':
      answeredAt ??= str(d.answeredAt) ?? e.time;
      break;
    case 'call.redirected':
      redirects++;
      break;
    case 'call.disconnected':
    case 'call.finished':
      talkEndedAt ??= e.time;
      break;
    case 'call.ended':
      ended ??= compact({ time: e.time, outcome: str(d.outcome), reason: str(d.reason), answeredAt: str(d.answeredAt), startedAt: str(d.startedAt), endedAt: str(d.endedAt), durationSec: finite(d.durationSec), talkSec: finite(d.talkSec) });
      break;
    case 'call.closed':
      closedAt ??= e.time;
      break;
    case 'call.rated':
      rated = compact({ rating: finite(d.rating), scale: finite(d.scale), comment: str(d.comment) });
      break;
    case 'call.rating-skipped':
      skipped = true;
      break;
    case 'call.recording-ready':
      recordingUrl = str(d.url) ?? recordingUrl;
      break;
  }
  const rank = CALL_RANK[e.type] ?? 0;
  // Forward only; at an equal rank (a repeat, or the answered ⇄ redirected cycle) the later event wins.
  if (STATE_OF[e.type] !== undefined && (stateType === undefined || rank >= (CALL_RANK[stateType] ?? 0))) stateType = e.type;
  return compact({
    tail: tailWith(s?.tail ?? {}, e, CALL_RANK),
    platform: s?.platform ?? e.platform,
    direction: s?.direction ?? str(d.direction),
    from: s?.from ?? party(d.from),
    to: s?.to ?? party(d.to),
    operator: party(d.operator) ?? s?.operator,
    conversationId: s?.conversationId ?? str(d.conversationId),
    video: s?.video ?? (typeof d.video === 'boolean' ? d.video : undefined),
    ended,
    rated,
    skipped,
    recordingUrl,
    ringingAt,
    answeredAt,
    talkEndedAt,
    closedAt,
    redirects,
    stateType,
    lastEventAt: s === undefined || e.time > s.lastEventAt ? e.time : s.lastEventAt,
    events: (s?.events ?? 0) + 1,
  });
}

/** The call fold's state over a set of events (put in canonical order first). */
export function foldCallState(input: readonly CallEventLike[]): CallFold | undefined {
  let s: CallFold | undefined;
  for (const e of canonicalOrder(
    input.filter((x) => x.type.startsWith('call.')),
    CALL_RANK,
  ))
    s = stepCall(s, e);
  return s;
}

/** The parties of a call's state whose names the row shows (for the contact book lookup). */
export function callParties(s: CallFold): string[] {
  return [s.from?.id, s.to?.id].filter((x): x is string => x !== undefined);
}

/** The call row from the fold's state. */
export function finishCall(connectorId: string, callId: string, s: CallFold, names: ReadonlyMap<string, string> = new Map()): Call {
  const end = s.ended;
  const outcome = end?.outcome as CallOutcome | undefined;
  let { answeredAt, ringingAt } = s;
  if (outcome === 'answered') answeredAt ??= end?.answeredAt ?? end?.time;
  ringingAt ??= end?.startedAt;
  const endedAt = end ? (end.endedAt ?? end.time) : s.talkEndedAt;
  const answered = outcome === undefined || outcome === 'answered' ? answeredAt : undefined;
  const durationSec = end?.durationSec ?? secondsBetween(ringingAt ?? answered, endedAt);
  const talkSec = end?.talkSec ?? (answered !== undefined ? secondsBetween(answered, s.talkEndedAt ?? endedAt) : outcome !== undefined ? 0 : undefined);
  const rating = s.rated;
  return compact({
    id: `${connectorId}:${callId}`,
    connectorId,
    platform: s.platform,
    callId,
    state: s.stateType !== undefined ? (STATE_OF[s.stateType] as CallState) : rating || s.skipped ? 'ended' : 'ringing',
    direction: s.direction,
    from: namedParty(s.from, names),
    to: namedParty(s.to, names),
    operator: s.operator,
    conversationId: s.conversationId,
    conversation: s.conversationId === undefined ? undefined : `${connectorId}:${s.conversationId}`,
    video: s.video,
    outcome,
    reason: end?.reason,
    ringingAt,
    answeredAt: answered,
    endedAt,
    closedAt: s.closedAt,
    durationSec,
    talkSec,
    rating: rating?.rating,
    ratingScale: rating?.scale,
    ratingComment: rating?.comment,
    ratingSkipped: s.skipped && !rating ? true : undefined,
    recordingUrl: s.recordingUrl,
    redirects: s.redirects,
    lastEventAt: s.lastEventAt,
    events: s.events,
  });
}

/**
 * One call from its events, in any order and with any repeats (events of other types are
 * ignored). The events are put in `canonicalOrder` first, then:
 * - the state is the latest lifecycle phase and never goes back: a late `call.ringing` after
 *   `call.ended` does not reopen the call; between `answered` and `redirected` (a redirect cycle)
 *   the later event wins; a call known only from its rating has `ended`;
 * - each milestone (`ringingAt`, `answeredAt`, `endedAt`, `closedAt`) is its earliest event's; the
 *   outcome and reason are the first `call.ended`'s; the rating the last one's;
 * - durations are the platform's when it gives them, else derived from the times.
 *
 * It is `stepCall` over the ordered events, then `finishCall`.
 *
 * @example
 * const call = foldCall('widget-web', 'c-1', events);
 * call?.state; // 'closed'
 */
export function foldCall(connectorId: string, callId: string, input: readonly CallEventLike[], names: ReadonlyMap<string, string> = new Map()): Call | undefined {
  const s = foldCallState(input);
  return s && finishCall(connectorId, callId, s, names);
}
