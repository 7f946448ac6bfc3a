/**
 * The store contract. A store owns its connection (the SQLite file handle, the PostgreSQL
 * pool): it opens it in `open()` and releases it in `close()`; callers never touch it.
 * Every implementation runs the conformance suite in `test/store-conformance.ts`.
 */
import type { SwitchboardEvent } from '../../core/index.js';

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

export interface QuarantineEntry extends QuarantineInput {
  readonly id: string;
}

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

export interface Store {
  readonly kind: string;
  /** Opens the connection and applies pending migrations. */
  open(): Promise<void>;
  /** Commits several batches in one durable transaction, in order. Duplicate ids are skipped. */
  commit(batches: readonly CommitBatch[]): Promise<CommitResult[]>;
  getEvent(id: string): Promise<StoredEvent | undefined>;
  queryEvents(query: EventQuery): Promise<StoredEvent[]>;
  latestSequence(): Promise<number>;
  listQuarantine(query: { after?: number | undefined; limit: number; connectorId?: string | undefined }): Promise<QuarantineEntry[]>;
  getCursor(connectorId: string): Promise<string | undefined>;
  connectorStats(): Promise<ConnectorStats[]>;
  /** Small persistent connector state (caches). */
  kvGet(connectorId: string, namespace: string, key: string): Promise<KvEntry | undefined>;
  kvPut(connectorId: string, namespace: string, key: string, value: string, updatedAt: string): Promise<void>;
  /** Answers true when the store can take writes. */
  ping(): Promise<boolean>;
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
