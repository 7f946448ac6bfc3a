/**
 * The store contract. A store owns its connection (the SQLite file handle, the PostgreSQL
 * pool): it opens it in `open()` and releases it in `close()`; callers never touch it.
 * Every implementation runs the conformance suite in `test/store-conformance.ts`.
 */
import type { Call, SwitchboardEvent } from '../../core/index.js';
import type {
  AttemptRecord,
  AttemptRow,
  DeliveryListQuery,
  DeliveryStatus,
  OutboxRow,
  ReplayRange,
  StoredSecret,
  Subscription,
  SubscriptionInput,
} from '../delivery/types.js';
import type { ConversationRow, OperatorRow } from '../projections/fold.js';
import type { ErasureRecord, ErasureStart } from './erasure-plan.js';
import type { ExpiredScan, ExpireRequest, ExpireResult } from './retention-plan.js';

/** Input that could not be read or normalized. */
export interface QuarantineInput {
  readonly connectorId: string;
  readonly receivedAt: string;
  readonly code: string;
  readonly reason: string;
  /** The media type of the text; for bytes (`rawEncoding: 'base64'`), the Content-Type header as received, charset and all. */
  readonly contentType?: string | undefined;
  /** The input as received: its text, or with `rawEncoding: 'base64'` its bytes in base64 (bytes that did not decode). */
  readonly raw: string;
  readonly rawEncoding?: 'base64' | undefined;
}

/** What became of a quarantined input: re-ingested after a fix, or discarded. */
export interface QuarantineResolution {
  readonly action: 'retried' | 'discarded';
  readonly at: string;
  /** A retry's ingest result (counts). */
  readonly result?: { readonly accepted: number; readonly duplicates: number; readonly events: number; readonly rejected: number } | undefined;
}

export interface QuarantineEntry extends QuarantineInput {
  readonly id: string;
  /** Absent while the entry is open. */
  readonly resolution?: QuarantineResolution | undefined;
}

export type QuarantineStatus = 'open' | 'retried' | 'discarded';

/** What one ingest call commits; many of them share one transaction (group commit). */
export interface CommitBatch {
  readonly connectorId: string;
  readonly receivedAt: string;
  readonly events: readonly SwitchboardEvent[];
  readonly quarantine: readonly QuarantineInput[];
  /** A pulled source's resume point after this batch. */
  readonly cursor?: string | undefined;
  /** The events' JSON, position for position, when the caller has serialized them already (the committer does); else the store serializes them. */
  readonly bodies?: readonly string[] | undefined;
}

/** An event the store could not take (it cannot be written as JSON): not stored, kept in the quarantine instead. */
export interface InvalidEvent {
  /** The event's position in its batch. */
  readonly index: number;
  readonly code: string;
  readonly reason: string;
  readonly quarantineId: string;
}

/** An event as stored: its sequence and its full JSON (with `sequence`). */
export interface StoredEvent {
  readonly seq: number;
  readonly id: string;
  readonly type: string;
  readonly json: string;
}

export interface CommitResult {
  /** Per input event: the stored event, or `undefined` when its id was already stored. */
  readonly stored: readonly (StoredEvent | undefined)[];
  readonly quarantineIds: readonly string[];
  /** Events of the batch that could not be stored and went to the quarantine instead (their `stored` entry is `undefined`). */
  readonly invalid?: readonly InvalidEvent[] | undefined;
}

export interface EventQuery {
  /** Type patterns already split: exact names or globs with `*`. Empty: all types. */
  readonly types?: readonly string[];
  readonly platform?: string | undefined;
  /** Exact subject, or a prefix ending in `*` (e.g. `call/*`). */
  readonly subject?: string | undefined;
  readonly connectorId?: string | undefined;
  /** Only events with a greater sequence. */
  readonly after?: number | undefined;
  /** Only events with a smaller sequence. */
  readonly before?: number | undefined;
  /** The newest `limit` events first (descending sequence) instead of the oldest. */
  readonly newestFirst?: boolean | undefined;
  readonly limit: number;
}

export interface ConnectorStats {
  readonly connectorId: string;
  readonly events: number;
  readonly lastSequence: number | undefined;
  readonly lastReceivedAt: string | undefined;
  readonly quarantined: number;
}

export interface KvEntry {
  readonly value: string;
  readonly updatedAt: string;
}

/** One page of a projection list, paged by an opaque row cursor. */
export interface ProjectionPage<T> {
  readonly rows: T[];
  /** The `after` of the next page, or `null` on the last one. */
  readonly next: string | null;
}

export interface PageQuery {
  readonly after?: string | undefined;
  readonly limit: number;
}

export interface CallListQuery extends PageQuery {
  readonly platform?: string | undefined;
  readonly connectorId?: string | undefined;
  readonly outcome?: string | undefined;
  readonly state?: string | undefined;
  /** ISO times on the ringing time: from inclusive, to exclusive. */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  /** A party's id or phone. */
  readonly party?: string | undefined;
  /** A conversation: its connector and its key. */
  readonly conversation?: { readonly connectorId: string; readonly conversationId: string } | undefined;
}

export interface ConversationListQuery extends PageQuery {
  readonly platform?: string | undefined;
  readonly connectorId?: string | undefined;
  readonly state?: string | undefined;
  readonly clientId?: string | undefined;
}

export interface OperatorListQuery extends PageQuery {
  readonly platform?: string | undefined;
  readonly connectorId?: string | undefined;
  readonly status?: string | undefined;
}

/** What `GET /v1/stats` groups by. */
export type StatsGroup = 'platform' | 'connector' | 'operator';

/** The KPIs' counters over calls that rang, and conversations opened, in [from, to). */
export interface StatsQuery {
  /** ISO times (UTC): from inclusive, to exclusive. */
  readonly from: string;
  readonly to: string;
  readonly by?: StatsGroup | undefined;
  readonly platform?: string | undefined;
  readonly connectorId?: string | undefined;
  /** Inbound calls answered within this many seconds of ringing count toward the service level. */
  readonly serviceLevelSec: number;
  /** Abandoned calls that rang less than this many seconds are short-abandoned. */
  readonly shortAbandonSec: number;
}

/**
 * Sums for one UTC hour and group, from which every KPI is a ratio (docs/projections.md, "KPIs"):
 * hours roll up into days and totals in any time zone by adding them.
 */
export interface StatsCounters {
  /** The UTC hour: `YYYY-MM-DDTHH:00:00.000Z`. */
  readonly hour: string;
  /** The group's value (platform, connector id, `<connectorId>:<operatorId>`), or null (none asked, or no operator). */
  readonly key: string | null;
  /** Inbound calls that ended (answered or not). */
  readonly inbound: number;
  readonly answeredInbound: number;
  readonly unansweredInbound: number;
  /** Unanswered inbound calls the caller ended (caller-hung-up, caller-gave-up, cancelled). */
  readonly abandoned: number;
  readonly shortAbandoned: number;
  readonly answeredInServiceLevel: number;
  /** Seconds from ringing to answer, summed over the answered inbound calls that have both times. */
  readonly answerWaitSec: number;
  readonly answerWaitCount: number;
  readonly outbound: number;
  readonly answeredOutbound: number;
  /** Talk seconds summed over the answered calls whose talk time is known (> 0). */
  readonly talkSec: number;
  readonly talkCount: number;
  /** Calls not ended yet. */
  readonly inProgress: number;
  /** Conversations opened that hold at least one message. */
  readonly chats: number;
  readonly firstResponseSec: number;
  readonly firstResponseCount: number;
  readonly assignmentSec: number;
  readonly assignmentCount: number;
}

/**
 * The projections a backend keeps (DESIGN §3). The backend updates them inside the commit
 * transaction of the events they come from, with the shared pure folds
 * (`src/server/projections/fold.ts`, `foldCall` in the core); these are the reads.
 */
export interface ProjectionStore {
  listCalls(q: CallListQuery): Promise<ProjectionPage<Call>>;
  /** A call with its events (in store order), or `undefined`. */
  getCall(connectorId: string, callId: string): Promise<{ call: Call; events: SwitchboardEvent[] } | undefined>;
  listConversations(q: ConversationListQuery): Promise<ProjectionPage<ConversationRow>>;
  getConversation(connectorId: string, conversationId: string): Promise<ConversationRow | undefined>;
  /** A conversation's own events and the events of the calls linked to it, or `undefined` when there is no such conversation. */
  timelineEvents(connectorId: string, conversationId: string): Promise<{ own: SwitchboardEvent[]; calls: SwitchboardEvent[] } | undefined>;
  listOperators(q: OperatorListQuery): Promise<ProjectionPage<OperatorRow>>;
  /** The KPI counters per UTC hour (and group) over the calls and conversations (aggregated by the backend). */
  stats(q: StatsQuery): Promise<StatsCounters[]>;
  /** Drops and recomputes every projection from the event log. */
  rebuild(): Promise<{ calls: number; conversations: number; operators: number }>;
  /**
   * Brings the projections up to date with events committed with `deferProjections` (bulk
   * loads): recomputes the entities they concern, a chunk of at most `chunk` entities per
   * transaction, so that other commits go on between chunks. Resumable: what is left after a crash
   * is done by the next call. Resolves with the entities recomputed.
   */
  catchUp(options?: { chunk?: number; onProgress?: (done: number, left: number) => void }): Promise<number>;
  /** Entities whose projections wait for `catchUp`. */
  pendingCount(): Promise<number>;
}

/**
 * The delivery tables: subscriptions, the outbox (filled by the commit for each new event and
 * matching enabled subscription), attempts, and the cursors of sinks.
 */
export interface DeliveryStore {
  /**
   * Set before the first commit. `firstDelayMs`: the delay of new outbox rows (the first step of
   * the retry schedule). `claimMs`: in a store several instances share, how long a row `due()`
   * gave this instance stays its own — longer than an attempt and its recording, short enough that
   * the rows of an instance that died are sent by another one soon (docs/scaling.md).
   */
  configure(options: { firstDelayMs: number; claimMs?: number }): void;
  list(): Promise<Subscription[]>;
  get(id: string): Promise<Subscription | undefined>;
  /** Creates a subscription, or replaces the one with its id keeping its state. */
  put(input: SubscriptionInput, now?: Date): Promise<Subscription>;
  /** Enables (clearing the reason and the failure streak; pending rows start a fresh schedule) or disables. */
  setEnabled(id: string, enabled: boolean, reason: string | undefined, now?: Date): Promise<Subscription | undefined>;
  setSecrets(id: string, secrets: readonly StoredSecret[], now?: Date): Promise<Subscription | undefined>;
  /** Removes a subscription with its outbox rows and attempts. */
  delete(id: string): Promise<boolean>;
  /** Pending rows of a subscription due by `now`; in ordered mode only the first pending row of each subject. */
  due(sub: Subscription, now: number, limit: number): Promise<OutboxRow[]>;
  /** The earliest future attempt of an enabled subscription. */
  nextDueAfter(now: number): Promise<number | undefined>;
  /** The stored CloudEvent body of a sequence (without `sequence`). */
  eventBody(seq: number): Promise<string | undefined>;
  getRow(did: number): Promise<OutboxRow | undefined>;
  /** Records attempts in one transaction; answers the subscriptions to disable (410, or failing too long). */
  recordAttempts(records: readonly AttemptRecord[], disableAfterMs: number, now?: number): Promise<{ id: string; reason: string; kind: 'gone' | 'failing' }[]>;
  /** Pending and failed counts per subscription. */
  counts(): Promise<Map<string, Record<DeliveryStatus, number>>>;
  countsOf(id: string): Promise<Record<DeliveryStatus, number>>;
  listDeliveries(q: DeliveryListQuery): Promise<(OutboxRow & { type: string | null })[]>;
  attemptsOf(did: number, limit: number): Promise<AttemptRow[]>;
  /**
   * Makes one delivery of a subscription due now: a pending one skips the rest of its wait, a
   * failed (or delivered) one starts a new round. Answers the row after, or `undefined` when the
   * subscription has no such delivery.
   */
  retryNow(subscriptionId: string, did: number, now?: number): Promise<OutboxRow | undefined>;
  /** Enqueues the events of a range again for a subscription, in chunks. */
  replay(sub: Subscription, range: ReplayRange, now?: number): Promise<{ enqueued: number; alreadyPending: number; matched: number }>;
  /** Removes finished outbox rows (and their attempts) last changed before `before`. */
  prune(before: Date): Promise<number>;
  /** Stored events after a sequence, in order (a sink's reading). */
  eventsAfter(seq: number, limit: number): Promise<{ seq: number; id: string; type: string; platform: string; body: string }[]>;
  sinkCursor(name: string): Promise<number>;
  saveSinkCursor(name: string, seq: number, now?: Date): Promise<void>;
}

export interface CommitOptions {
  /** Record the entities the events concern for `projections.catchUp()` instead of recomputing them now. */
  readonly deferProjections?: boolean;
}

/** An event row as a store keeps it: what `switchboard migrate` copies from one store to another. */
export interface EventRow {
  readonly seq: number;
  readonly id: string;
  readonly type: string;
  readonly platform: string;
  readonly connectorId: string;
  readonly subject: string;
  readonly time: string;
  readonly receivedAt: string;
  /** The event's JSON without `sequence`. */
  readonly body: string;
}

/** A connector's saved position, or one of its kv entries, as `switchboard migrate` copies them. */
export interface CursorRow {
  readonly connectorId: string;
  readonly cursor: string;
  readonly updatedAt: string;
}
export interface KvRow {
  readonly connectorId: string;
  readonly namespace: string;
  readonly key: string;
  readonly value: string;
  readonly updatedAt: string;
}

/** What one instance at a time may run, when several share a store (docs/scaling.md). */
export interface LeaseStore {
  /**
   * Takes the lease `name` for `owner` for `ttlMs`, or renews it when `owner` holds it; a lease
   * another owner holds and has not let run out stays theirs. Answers who holds it after the call.
   */
  acquire(name: string, owner: string, ttlMs: number): Promise<{ held: boolean; owner: string }>;
  /** Gives the lease up, if `owner` holds it. */
  release(name: string, owner: string): Promise<void>;
}

/**
 * Retention (docs/privacy.md): passes over the event log, one chunk per transaction, that remove
 * what is past its window (`retention-plan.ts`), and the quarantine's own window.
 */
export interface RetentionStore {
  /**
   * Reads up to `limit` events of the request's stream after `after` (up to `untilSeq`, received
   * before `before`) in sequence order and removes them, with their outbox rows (pending ones are
   * marked failed instead) and the projection rows of the calls, conversations and operators
   * that have no event left.
   */
  expireEvents(req: ExpireRequest): Promise<ExpireResult>;
  /**
   * Reads (removes nothing) what `expireEvents` would remove of the same chunk, as the API shows
   * the events (with `sequence`), with their `receivedAt` — for an archive written before they
   * go. `expireEvents` with `seqs` then removes exactly those.
   */
  scanExpired(req: ExpireRequest): Promise<ExpiredScan>;
  /** The greatest sequence of an event received before `before` (ISO time), 0 if none: events are committed in receipt order. */
  lastSeqBefore(before: string): Promise<number>;
  /** Removes up to `limit` quarantine entries received before `before` (ISO time); answers how many. */
  expireQuarantine(before: string, limit: number): Promise<number>;
  /**
   * Removes up to `limit` entries of connectors' persistent state (`kvPut`: the caller-name
   * cache) last written before `before` (ISO time): of one connector, or of every connector but
   * those listed. Answers how many. Retention's own entries are never touched.
   */
  expireConnectorState(which: ConnectorChoice, before: string, limit: number): Promise<number>;
  /** The greatest sequence retention removed (0: none): a reader resuming before it may have missed events. */
  horizon(): Promise<number>;
}

/**
 * Erasures on request (docs/privacy.md): a durable record per request, worked through in steps
 * (one transaction each) that a crash interrupts and a later step resumes.
 */
export interface ErasureStore {
  /** Records a request (status running); nothing is removed yet. */
  start(s: ErasureStart): Promise<ErasureRecord>;
  /** One step: a range of `limit` sequences of the events phase, or the rest and the end. Answers the record after it. */
  step(id: string, limit?: number): Promise<ErasureRecord>;
  get(id: string): Promise<ErasureRecord | undefined>;
  /** Every request, newest first. */
  list(): Promise<ErasureRecord[]>;
  /** The ids of requests not finished. */
  running(): Promise<string[]>;
}

/** One connector, or every connector but some. */
export type ConnectorChoice = { readonly connectorId: string } | { readonly except: readonly string[] };

/** What `Store.watch` tells. */
export interface StoreWatcher {
  /** Events may have been committed. */
  committed(): void;
  /** Events were removed (an erasure): what was read of them before is not to be served again. */
  removed(): void;
}

export interface Store {
  readonly kind: string;
  /**
   * Only a store that several processes share: the leases, and this process's name in them (and
   * in its delivery claims). Absent: this process is the only one, and runs everything.
   */
  readonly leases?: LeaseStore;
  readonly instanceId?: string;
  /** The projections (calls, conversations, operators, timelines); usable once open. */
  readonly projections: ProjectionStore;
  /** Subscriptions, outbox, attempts and sink cursors; usable once open. */
  readonly delivery: DeliveryStore;
  /** Retention passes; usable once open. */
  readonly retention: RetentionStore;
  /** Erasures on request; usable once open. */
  readonly erasures: ErasureStore;
  /** Opens the connection and applies pending migrations. */
  open(): Promise<void>;
  /**
   * Commits several batches in one durable transaction, in order. Duplicate ids are skipped. The
   * projections of the new events change in the same transaction — or, with `deferProjections`
   * (bulk loads: `switchboard replay`), the entities they concern are recorded in that
   * transaction and recomputed later by `projections.catchUp()`, once per entity instead of once
   * per commit.
   */
  commit(batches: readonly CommitBatch[], options?: CommitOptions): Promise<CommitResult[]>;
  getEvent(id: string): Promise<StoredEvent | undefined>;
  queryEvents(query: EventQuery): Promise<StoredEvent[]>;
  latestSequence(): Promise<number>;
  listQuarantine(query: { after?: number | undefined; limit: number; connectorId?: string | undefined; status?: QuarantineStatus | undefined }): Promise<QuarantineEntry[]>;
  getQuarantine(id: string): Promise<QuarantineEntry | undefined>;
  /** Records what became of an open entry; false when there is no such entry or it was resolved already. */
  resolveQuarantine(id: string, resolution: QuarantineResolution): Promise<boolean>;
  getCursor(connectorId: string): Promise<string | undefined>;
  connectorStats(): Promise<ConnectorStats[]>;
  /** Small persistent connector state (caches). */
  kvGet(connectorId: string, namespace: string, key: string): Promise<KvEntry | undefined>;
  kvPut(connectorId: string, namespace: string, key: string, value: string, updatedAt: string): Promise<void>;
  /** Answers true when the store can take writes. */
  ping(): Promise<boolean>;
  /**
   * Only a store that several processes share (PostgreSQL): calls `on.committed` when some process
   * may have committed events (soon after the COMMIT; several commits may give one call), and
   * `on.removed` when some process's erasure removed events; both once more after a lost
   * connection to it comes back. Answers the function that stops it. Absent: this process is the
   * only writer.
   */
  watch?(on: StoreWatcher): () => Promise<void>;
  close(): Promise<void>;
}

/** The sequence as the `sequence` extension: zero-padded decimal. */
export function formatSequence(seq: number): string {
  return String(seq).padStart(16, '0');
}

/** Adds `sequence` to a stored body (a JSON object text) without parsing it again. */
export function withSequence(body: string, seq: number): string {
  return `${body.slice(0, -1)},"sequence":"${formatSequence(seq)}"}`;
}
