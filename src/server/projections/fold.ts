/**
 * The projections as pure folds over the SET of an entity's events. Events are put in a
 * canonical order — platform time, then the type's rank, then id — before folding, so the result
 * depends only on which events exist, never on the order or number of their deliveries.
 */
import type { CallOutcome, Party, SwitchboardEvent } from '../../core/index.js';

type AnyData = Record<string, unknown>;

/** Later phases of a call outrank earlier ones at the same instant. */
const CALL_RANK: Record<string, number> = {
  'call.ringing': 1,
  'call.connecting': 2,
  'call.answered': 3,
  'call.redirected': 4,
  'call.disconnected': 5,
  'call.finished': 6,
  'call.recording-ready': 7,
  'call.ended': 8,
  'call.rated': 9,
  'call.rating-skipped': 9,
  'call.closed': 10,
};

const CONVERSATION_RANK: Record<string, number> = {
  'conversation.opened': 1,
  'conversation.queued': 2,
  'conversation.operator-not-found': 3,
  'conversation.handed-to-operator': 4,
  'conversation.assigned': 5,
  'conversation.unassigned': 6,
  'conversation.close-requested': 7,
  'conversation.closed': 8,
  'conversation.rated': 9,
};

function canonical(events: readonly SwitchboardEvent[], rank: Record<string, number>): SwitchboardEvent[] {
  return [...events].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : (rank[a.type] ?? 0) - (rank[b.type] ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
}

function data(e: SwitchboardEvent): AnyData {
  return e.data as AnyData;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function party(v: unknown): Party | undefined {
  return v !== null && typeof v === 'object' ? (v as Party) : undefined;
}

function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/**
 * Names a party from the contact book (caller names): a looked-up name wins over the one the
 * event carried, unless the lookup found only the number.
 */
function named(p: Party | undefined, names: ReadonlyMap<string, string>): Party | undefined {
  if (!p?.id) return p;
  const name = names.get(p.id);
  if (!name || /^\+?\d+$/.test(name)) return p;
  return { ...p, name };
}

export const CALL_STATES = ['ringing', 'connecting', 'answered', 'redirected', 'disconnected', 'finished', 'ended', 'closed'] as const;
export type CallState = (typeof CALL_STATES)[number];

export interface CallRow {
  readonly id: string;
  readonly connectorId: string;
  readonly platform: string;
  readonly callId: string;
  readonly state: CallState;
  readonly direction?: string;
  readonly from?: Party;
  readonly to?: Party;
  readonly operator?: Party;
  readonly conversationId?: string;
  readonly video?: boolean;
  readonly outcome?: CallOutcome;
  readonly reason?: string;
  readonly ringingAt?: string;
  readonly answeredAt?: string;
  readonly endedAt?: string;
  readonly durationSec?: number;
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

const STATE_OF: Record<string, CallState> = {
  'call.ringing': 'ringing',
  'call.connecting': 'connecting',
  'call.answered': 'answered',
  'call.redirected': 'redirected',
  'call.disconnected': 'disconnected',
  'call.finished': 'finished',
  'call.ended': 'ended',
  'call.closed': 'closed',
};
const ENDING: ReadonlySet<string> = new Set(['call.disconnected', 'call.finished', 'call.ended', 'call.closed']);

/**
 * One call from its events. Once a call reached its ending phase (disconnected, finished, ended,
 * closed), an earlier phase never comes back, whatever its time: a late `call.ringing` after
 * `call.ended` does not reopen the call.
 */
export function foldCall(connectorId: string, callId: string, input: readonly SwitchboardEvent[], names: ReadonlyMap<string, string> = new Map()): CallRow | undefined {
  const events = canonical(input.filter((e) => e.type.startsWith('call.')), CALL_RANK);
  const first = events[0];
  if (!first) return undefined;
  let direction: string | undefined;
  let from: Party | undefined;
  let to: Party | undefined;
  let operator: Party | undefined;
  let conversationId: string | undefined;
  let video: boolean | undefined;
  let ended: SwitchboardEvent | undefined;
  let rated: SwitchboardEvent | undefined;
  let skipped = false;
  let recordingUrl: string | undefined;
  let ringingAt: string | undefined;
  let answeredAt: string | undefined;
  let redirects = 0;
  let active: SwitchboardEvent | undefined;
  let ending: SwitchboardEvent | undefined;
  for (const e of events) {
    const d = data(e);
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
      case 'call.ended':
        ended = e;
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
    if (ENDING.has(e.type)) {
      if (!ending || (CALL_RANK[e.type] ?? 0) >= (CALL_RANK[ending.type] ?? 0)) ending = e;
    } else if (STATE_OF[e.type]) {
      active = e;
    }
  }
  const end = ended ? data(ended) : undefined;
  const outcome = end ? (str(end.outcome) as CallOutcome | undefined) : undefined;
  if (outcome === 'answered') answeredAt ??= str(end?.answeredAt) ?? ended?.time;
  const rating = rated ? data(rated) : undefined;
  const last = events[events.length - 1] as SwitchboardEvent;
  const stateEvent = ending ?? active;
  return compact({
    id: `${connectorId}:${callId}`,
    connectorId,
    platform: first.platform,
    callId,
    state: stateEvent ? (STATE_OF[stateEvent.type] as CallState) : 'ringing',
    direction,
    from: named(from, names),
    to: named(to, names),
    operator,
    conversationId,
    video,
    outcome,
    reason: end ? str(end.reason) : undefined,
    ringingAt: ringingAt ?? (end ? str(end.startedAt) : undefined),
    answeredAt: outcome === undefined || outcome === 'answered' ? answeredAt : undefined,
    endedAt: end ? (str(end.endedAt) ?? ended?.time) : undefined,
    durationSec: end ? num(end.durationSec) : undefined,
    talkSec: end ? num(end.talkSec) : undefined,
    rating: rating ? num(rating.rating) : undefined,
    ratingScale: rating ? num(rating.scale) : undefined,
    ratingComment: rating ? str(rating.comment) : undefined,
    ratingSkipped: skipped && !rated ? true : undefined,
    recordingUrl,
    redirects,
    lastEventAt: last.time,
    events: events.length,
  });
}

export const CONVERSATION_STATES = ['open', 'queued', 'assigned', 'closed'] as const;
export type ConversationState = (typeof CONVERSATION_STATES)[number];

export interface ConversationRow {
  readonly id: string;
  readonly connectorId: string;
  readonly platform: string;
  readonly conversationId: string;
  readonly state: ConversationState;
  readonly client?: Party;
  readonly operator?: Party;
  readonly channel?: string;
  readonly messages: number;
  readonly inbound: number;
  readonly outbound: number;
  readonly openedAt: string;
  readonly closedAt?: string;
  readonly rating?: number;
  readonly lastActivityAt: string;
}

const CONVERSATION_STATE_OF: Record<string, ConversationState> = {
  'conversation.opened': 'open',
  'conversation.queued': 'queued',
  'conversation.operator-not-found': 'queued',
  'conversation.handed-to-operator': 'assigned',
  'conversation.assigned': 'assigned',
  'conversation.unassigned': 'queued',
  'conversation.closed': 'closed',
};

/** What the fold needs of a conversation's messages, counted by the store. */
export interface MessageSummary {
  readonly inbound: number;
  readonly outbound: number;
  readonly firstAt?: string | undefined;
  readonly lastAt?: string | undefined;
  /** Platform and client of a conversation known only from its messages. */
  readonly platform?: string | undefined;
  readonly client?: Party | undefined;
}

/**
 * One conversation from its state events and a summary of its messages. State follows the last
 * state change in platform time; once closed, only `conversation.opened` opens it again.
 */
export function foldConversation(
  connectorId: string,
  conversationId: string,
  input: readonly SwitchboardEvent[],
  messages: MessageSummary,
  names: ReadonlyMap<string, string> = new Map(),
): ConversationRow | undefined {
  const events = canonical(input.filter((e) => !e.type.startsWith('message.')), CONVERSATION_RANK);
  const first = events[0];
  const firstAt = [first?.time, messages.firstAt].filter((t): t is string => t !== undefined).sort()[0];
  if (!firstAt) return undefined;
  let state: ConversationState = 'open';
  let client: Party | undefined;
  let operator: Party | undefined;
  let channel: string | undefined;
  let openedAt: string | undefined;
  let closedAt: string | undefined;
  let rating: number | undefined;
  for (const e of events) {
    const d = data(e);
    client ??= party(d.client);
    channel ??= str(d.channel);
    const next = CONVERSATION_STATE_OF[e.type];
    // Closed stays closed until the conversation is opened again: a state change that sorts after
    // the close only because it carried no platform time (receipt time) cannot reopen it.
    if (next && (state !== 'closed' || next === 'open')) {
      state = next;
      if (next === 'open') openedAt ??= e.time;
      closedAt = next === 'closed' ? e.time : undefined;
      if (e.type === 'conversation.unassigned') operator = undefined;
    }
    if (e.type === 'conversation.assigned' || e.type === 'conversation.handed-to-operator') operator = party(d.operator) ?? operator;
    if (e.type === 'conversation.rated') rating = num(d.rating);
  }
  const lastAt = [events[events.length - 1]?.time, messages.lastAt].filter((t): t is string => t !== undefined).sort().pop() ?? firstAt;
  return compact({
    id: `${connectorId}:${conversationId}`,
    connectorId,
    platform: first?.platform ?? messages.platform ?? 'unknown',
    conversationId,
    state,
    client: named(client ?? messages.client, names),
    operator,
    channel,
    messages: messages.inbound + messages.outbound,
    inbound: messages.inbound,
    outbound: messages.outbound,
    openedAt: openedAt ?? firstAt,
    closedAt,
    rating,
    lastActivityAt: lastAt,
  });
}

export interface OperatorRow {
  readonly id: string;
  readonly connectorId: string;
  readonly platform: string;
  readonly operatorId: string;
  readonly name?: string;
  /** `online` · `offline` · `away` · `busy` · … , or `revoked` after a session revocation. */
  readonly status: string;
  readonly nativeStatus?: string;
  readonly revokedReason?: string;
  readonly since: string;
}

/** One operator's current status: the last status change in platform time. */
export function foldOperator(connectorId: string, operatorId: string, input: readonly SwitchboardEvent[]): OperatorRow | undefined {
  const events = canonical(input.filter((e) => e.type === 'operator.status-changed' || e.type === 'operator.session-revoked'), {});
  const last = events[events.length - 1];
  if (!last) return undefined;
  let name: string | undefined;
  for (const e of events) name = party(data(e).operator)?.name ?? name;
  const d = data(last);
  const revoked = last.type === 'operator.session-revoked';
  return compact({
    id: `${connectorId}:${operatorId}`,
    connectorId,
    platform: last.platform,
    operatorId,
    name,
    status: revoked ? 'revoked' : (str(d.status) ?? 'unknown'),
    nativeStatus: revoked ? undefined : str(d.nativeStatus),
    revokedReason: revoked ? str(d.reason) : undefined,
    since: last.time,
  });
}
