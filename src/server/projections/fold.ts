/**
 * The projections as pure folds over the SET of an entity's events. Events are put in the core's
 * canonical order (platform time, then the type's rank, then arrival; receipt-time events by
 * arrival) before folding, so the result depends only on which events exist, never on the number
 * of their deliveries. The call fold is the core's `foldCall`, shared with the browser module.
 */
// Direct module imports (not core/index.js): the SQLite writer thread loads this file, and the
// index would bring every data schema (zod) into its isolate.
import type { Call, Party, SwitchboardEvent } from '../../core/index.js';
import { appendsAfter, CALL_RANK, callParties, finishCall, foldCall, foldCallState, namedParty as named, stepCall, tailWith, type CallFold, type FoldTail } from '../../core/calls.js';
import { compact, finite, str } from '../../core/kit.js';
import { canonicalOrder } from '../../core/order.js';

export { appendsAfter, CALL_RANK, callParties, finishCall, foldCall, foldCallState, stepCall, type CallFold, type FoldTail };
/** A row of `GET /v1/calls`: the core's call model. */
export type CallRow = Call;

type AnyData = Record<string, unknown>;

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

function data(e: SwitchboardEvent): AnyData {
  return e.data as AnyData;
}

function party(v: unknown): Party | undefined {
  return v !== null && typeof v === 'object' ? (v as Party) : undefined;
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
  /** When an operator was first assigned, where the platform says (Threads, 1С-Коннект, TWIN). */
  readonly assignedAt?: string;
  /** When the client wrote first: the first message to the client (the first response), and the seconds from the client's first message to it. */
  readonly firstResponseAt?: string;
  readonly firstResponseSec?: number;
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
  /** The first message from the client, and the first one to the client (for the first-response time). */
  readonly firstInboundAt?: string | undefined;
  readonly firstOutboundAt?: string | undefined;
}

/** The conversation fold's state after some of its state events in canonical order (plain JSON). */
export interface ConversationFold {
  readonly tail: FoldTail;
  readonly platform?: string;
  readonly state: ConversationState;
  readonly client?: Party;
  readonly operator?: Party;
  readonly channel?: string;
  readonly openedAt?: string;
  readonly closedAt?: string;
  readonly rating?: number;
  /** The first assignment to an operator (`conversation.assigned`, `conversation.handed-to-operator`). */
  readonly assignedAt?: string;
  /** Earliest and latest time of the state events. */
  readonly firstAt?: string;
  readonly lastAt?: string;
}

export const EMPTY_CONVERSATION: ConversationFold = { tail: {}, state: 'open' };

/**
 * Folds one more state event, later in canonical order than every event of `s`. State follows
 * the last state change in platform time; once closed, only `conversation.opened` opens it again.
 */
export function stepConversation(s: ConversationFold, e: SwitchboardEvent): ConversationFold {
  if (e.type.startsWith('message.')) return s;
  const d = data(e);
  let { state, client, operator, openedAt, closedAt, rating, assignedAt } = s;
  // The first client that carries a name, else the first one.
  if (!client?.name) client = party(d.client)?.name ? party(d.client) : (client ?? party(d.client));
  const next = CONVERSATION_STATE_OF[e.type];
  // Closed stays closed until the conversation is opened again: a state change that sorts after
  // the close only because it carried no platform time (receipt time) cannot reopen it.
  if (next && (state !== 'closed' || next === 'open')) {
    state = next;
    if (next === 'open') openedAt ??= e.time;
    closedAt = next === 'closed' ? e.time : undefined;
    if (e.type === 'conversation.unassigned') operator = undefined;
  }
  if (e.type === 'conversation.assigned' || e.type === 'conversation.handed-to-operator') {
    operator = party(d.operator) ?? operator;
    // The earliest, whatever the order the events were folded in.
    if (assignedAt === undefined || e.time < assignedAt) assignedAt = e.time;
  }
  if (e.type === 'conversation.rated') rating = finite(d.rating);
  return compact({
    tail: tailWith(s.tail, e, CONVERSATION_RANK),
    platform: s.platform ?? e.platform,
    state,
    client,
    operator,
    channel: s.channel ?? str(d.channel),
    openedAt,
    closedAt,
    rating,
    assignedAt,
    firstAt: s.firstAt === undefined || e.time < s.firstAt ? e.time : s.firstAt,
    lastAt: s.lastAt === undefined || e.time > s.lastAt ? e.time : s.lastAt,
  });
}

/** Whether a new state event can be folded into `s` (see `appendsAfter`). */
export function conversationAppends(s: ConversationFold, e: SwitchboardEvent): boolean {
  return appendsAfter(s.tail, e, CONVERSATION_RANK);
}

/** The conversation fold's state over a set of its events (state events; messages are counted). */
export function foldConversationState(input: readonly SwitchboardEvent[]): ConversationFold {
  let s = EMPTY_CONVERSATION;
  for (const e of canonicalOrder(input.filter((x) => !x.type.startsWith('message.')), CONVERSATION_RANK)) s = stepConversation(s, e);
  return s;
}

/** The client whose name the conversation's row shows (for the contact book lookup). */
export function conversationClient(s: ConversationFold, messages: MessageSummary): string | undefined {
  return (s.client ?? messages.client)?.id;
}

/** The conversation row from the fold's state and the summary of its messages; undefined when nothing names it. */
export function finishConversation(connectorId: string, conversationId: string, s: ConversationFold, messages: MessageSummary, names: ReadonlyMap<string, string> = new Map()): ConversationRow | undefined {
  const times = [s.firstAt, s.lastAt, messages.firstAt, messages.lastAt].filter((t): t is string => t !== undefined).sort();
  const firstAt = times[0];
  if (!firstAt) return undefined;
  const lastAt = times[times.length - 1] ?? firstAt;
  return compact({
    id: `${connectorId}:${conversationId}`,
    connectorId,
    platform: s.platform ?? messages.platform ?? 'unknown',
    conversationId,
    state: s.state,
    client: named(s.client ?? messages.client, names),
    operator: s.operator,
    channel: s.channel,
    messages: messages.inbound + messages.outbound,
    inbound: messages.inbound,
    outbound: messages.outbound,
    openedAt: s.openedAt ?? firstAt,
    closedAt: s.closedAt,
    rating: s.rating,
    assignedAt: s.assignedAt,
    ...firstResponse(messages),
    lastActivityAt: lastAt,
  });
}

/** The first reply, when the client wrote first: the first message to the client, and how long after the client's first message it came. */
function firstResponse(m: MessageSummary): { firstResponseAt?: string; firstResponseSec?: number } {
  if (m.firstInboundAt === undefined || m.firstOutboundAt === undefined || m.firstOutboundAt <= m.firstInboundAt) return {};
  return { firstResponseAt: m.firstOutboundAt, firstResponseSec: Math.round((Date.parse(m.firstOutboundAt) - Date.parse(m.firstInboundAt)) / 100) / 10 };
}

/**
 * One conversation from its state events and a summary of its messages: `stepConversation` over
 * the events in canonical order, then `finishConversation`.
 */
export function foldConversation(
  connectorId: string,
  conversationId: string,
  input: readonly SwitchboardEvent[],
  messages: MessageSummary,
  names: ReadonlyMap<string, string> = new Map(),
): ConversationRow | undefined {
  return finishConversation(connectorId, conversationId, foldConversationState(input), messages, names);
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

/** The operator fold's state: the last status event in canonical order, and the last name seen. */
export interface OperatorFold {
  readonly tail: FoldTail;
  readonly name?: string;
  readonly last: { readonly type: string; readonly platform: string; readonly time: string; readonly status?: string; readonly nativeStatus?: string; readonly reason?: string };
}

const OPERATOR_TYPES = new Set(['operator.status-changed', 'operator.session-revoked']);

/** Folds one more status event, later in canonical order than every event of `s`. */
export function stepOperator(s: OperatorFold | undefined, e: SwitchboardEvent): OperatorFold | undefined {
  if (!OPERATOR_TYPES.has(e.type)) return s;
  const d = data(e);
  return compact({
    tail: tailWith(s?.tail ?? {}, e, {}),
    name: party(d.operator)?.name ?? s?.name,
    last: compact({ type: e.type, platform: e.platform, time: e.time, status: str(d.status), nativeStatus: str(d.nativeStatus), reason: str(d.reason) }),
  });
}

export function operatorAppends(s: OperatorFold, e: SwitchboardEvent): boolean {
  return appendsAfter(s.tail, e, {});
}

export function foldOperatorState(input: readonly SwitchboardEvent[]): OperatorFold | undefined {
  let s: OperatorFold | undefined;
  for (const e of canonicalOrder(input.filter((x) => OPERATOR_TYPES.has(x.type)))) s = stepOperator(s, e);
  return s;
}

export function finishOperator(connectorId: string, operatorId: string, s: OperatorFold): OperatorRow {
  const { last } = s;
  const revoked = last.type === 'operator.session-revoked';
  return compact({
    id: `${connectorId}:${operatorId}`,
    connectorId,
    platform: last.platform,
    operatorId,
    name: s.name,
    status: revoked ? 'revoked' : (last.status ?? 'unknown'),
    nativeStatus: revoked ? undefined : last.nativeStatus,
    revokedReason: revoked ? last.reason : undefined,
    since: last.time,
  });
}

/** One operator's current status: the last status change in platform time. */
export function foldOperator(connectorId: string, operatorId: string, input: readonly SwitchboardEvent[]): OperatorRow | undefined {
  const s = foldOperatorState(input);
  return s && finishOperator(connectorId, operatorId, s);
}

/** The key of a subject of a kind (`call/…` → `…`), or undefined. */
export function keyOf(subject: string, prefix: string): string | undefined {
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : undefined;
}

export interface Mention {
  readonly conversationId: string;
  readonly kind: 'inbound' | 'outbound' | 'other';
  readonly client?: unknown;
}

/**
 * The conversation an event names, other than by a conversation state change (those are folded):
 * a new message (counted by direction), any other event of a conversation subject, or an event of
 * another entity whose data has a `conversationId` (a call, a ticket, a file) — with the client
 * it shows (a call's caller, or the callee of an outbound call).
 */
export function mentionOf(e: SwitchboardEvent): Mention | undefined {
  const d = e.data as { conversationId?: unknown; direction?: unknown; client?: unknown; from?: unknown; to?: unknown };
  const own = keyOf(e.subject, 'conversation/');
  if (own !== undefined) {
    if (e.type.startsWith('conversation.')) return undefined;
    if (e.type === 'message.created') return { conversationId: own, kind: d.direction === 'inbound' ? 'inbound' : 'outbound', client: d.client };
    return { conversationId: own, kind: 'other', client: d.client };
  }
  if (typeof d.conversationId !== 'string' || d.conversationId === '') return undefined;
  const client = d.client ?? (e.type.startsWith('call.') ? (d.direction === 'outbound' ? d.to : d.from) : undefined);
  return { conversationId: d.conversationId, kind: 'other', client };
}

