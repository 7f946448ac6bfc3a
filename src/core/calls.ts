/**
 * The one call model: a pure fold over the set of a call's events, used by the server's calls
 * projection (`GET /v1/calls`) and by the browser module (`listener.calls()`), so that the page
 * and the server always say the same of the same call.
 */
import type { CallOutcome, Party } from './catalog.js';
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

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
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
 * @example
 * const call = foldCall('widget-web', 'c-1', events);
 * call?.state; // 'closed'
 */
export function foldCall(connectorId: string, callId: string, input: readonly CallEventLike[], names: ReadonlyMap<string, string> = new Map()): Call | undefined {
  const events = canonicalOrder(
    input.filter((e) => e.type.startsWith('call.')),
    CALL_RANK,
  );
  const first = events[0];
  const last = events[events.length - 1];
  if (!first || !last) return undefined;
  let direction: string | undefined;
  let from: Party | undefined;
  let to: Party | undefined;
  let operator: Party | undefined;
  let conversationId: string | undefined;
  let video: boolean | undefined;
  let ended: CallEventLike | undefined;
  let rated: CallEventLike | undefined;
  let skipped = false;
  let recordingUrl: string | undefined;
  let ringingAt: string | undefined;
  let answeredAt: string | undefined;
  let talkEndedAt: string | undefined;
  let closedAt: string | undefined;
  let redirects = 0;
  let state: CallEventLike | undefined;
  for (const e of events) {
    const d = dataOf(e);
    direction ??= str(d.direction);
    from ??= party(d.from);
    to ??= party(d.to);
    operator = party(d.operator) ?? operator;
    conversationId ??= str(d.conversationId);
    video ??= typeof d.video === 'boolean' ? d.video : undefined;
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
        ended ??= e;
        break;
      case 'call.closed':
        closedAt ??= e.time;
        break;
      case 'call.rated':
        rated = e;
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
    if (STATE_OF[e.type] !== undefined && (!state || rank >= (CALL_RANK[state.type] ?? 0))) state = e;
  }
  const end = ended ? dataOf(ended) : undefined;
  const outcome = end ? (str(end.outcome) as CallOutcome | undefined) : undefined;
  if (outcome === 'answered') answeredAt ??= str(end?.answeredAt) ?? ended?.time;
  ringingAt ??= end ? str(end.startedAt) : undefined;
  const endedAt = end ? (str(end.endedAt) ?? ended?.time) : talkEndedAt;
  const answered = outcome === undefined || outcome === 'answered' ? answeredAt : undefined;
  const durationSec = num(end?.durationSec) ?? secondsBetween(ringingAt ?? answered, endedAt);
  const talkSec = num(end?.talkSec) ?? (answered !== undefined ? secondsBetween(answered, talkEndedAt ?? endedAt) : outcome !== undefined ? 0 : undefined);
  const rating = rated ? dataOf(rated) : undefined;
  const row: Record<string, unknown> = {
    id: `${connectorId}:${callId}`,
    connectorId,
    platform: first.platform,
    callId,
    state: state ? STATE_OF[state.type] : rated || skipped ? 'ended' : 'ringing',
    direction,
    from: namedParty(from, names),
    to: namedParty(to, names),
    operator,
    conversationId,
    conversation: conversationId === undefined ? undefined : `${connectorId}:${conversationId}`,
    video,
    outcome,
    reason: end ? str(end.reason) : undefined,
    ringingAt,
    answeredAt: answered,
    endedAt,
    closedAt,
    durationSec,
    talkSec,
    rating: rating ? num(rating.rating) : undefined,
    ratingScale: rating ? num(rating.scale) : undefined,
    ratingComment: rating ? str(rating.comment) : undefined,
    ratingSkipped: skipped && !rated ? true : undefined,
    recordingUrl,
    redirects,
    lastEventAt: events.reduce((t, e) => (e.time > t ? e.time : t), last.time),
    events: events.length,
  };
  for (const k of Object.keys(row)) if (row[k] === undefined) delete row[k];
  return row as unknown as Call;
}
