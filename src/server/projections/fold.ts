/**
 * The projections as pure folds over the SET of an entity's events. Events are put in the core's
 * canonical order (platform time, then the type's rank, then arrival; receipt-time events by
 * arrival) before folding, so the result depends only on which events exist, never on the number
 * of their deliveries. The call fold is the core's `foldCall`, shared with the browser module.
 */
// Direct module imports (not core/index.js): the SQLite writer thread loads this file, and the
// index would bring every data schema (zod) into its isolate.
import type { Call, Party, SwitchboardEvent } from '../../core/index.js';
import { foldCall, namedParty as named } from '../../core/calls.js';
import { canonicalOrder } from '../../core/order.js';

export { foldCall };
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
  const events = canonicalOrder(input.filter((e) => !e.type.startsWith('message.')), CONVERSATION_RANK);
  const first = events[0];
  const times = [...events.map((e) => e.time), messages.firstAt, messages.lastAt].filter((t): t is string => t !== undefined).sort();
  const firstAt = times[0];
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
    // The first client that carries a name, else the first one.
    if (!client?.name) client = party(d.client)?.name ? party(d.client) : (client ?? party(d.client));
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
  const lastAt = times[times.length - 1] ?? firstAt;
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
  const events = canonicalOrder(input.filter((e) => e.type === 'operator.status-changed' || e.type === 'operator.session-revoked'));
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

