/**
 * The connector contract. A connector is a folder under `src/connectors/<platform>/` that
 * exports one `ConnectorDefinition`, plus one line in `registry.ts`.
 *
 * A connector declares; the runtime acts. The connector gives its settings schema, its pure
 * normalizer and, where the platform pushes to us, how to split an HTTP body into payloads;
 * where Switchboard must reach the platform itself (polling, a WebSocket, a pipe), a `Source`.
 * The runtime (`src/server/runtime.ts`) owns connecting, reconnection with jittered backoff,
 * resume points (cursors, saved in the same transaction as the events) and acks (called only
 * after the commit).
 */
import type * as z from 'zod/mini';
import type { Normalizer, Platform, SwitchboardEvent } from '../core/index.js';

/** How `POST /ingest/:connectorId` turns a body into native payloads. */
export interface IngestSpec {
  /** Media types accepted (without parameters), e.g. `application/json`. */
  readonly contentTypes: readonly string[];
  /**
   * Splits a body into payloads. Throws `ValidationError('SB_ERR_INGEST_MALFORMED')` when the
   * body cannot be read at all; an item that cannot be read is returned as `{ error }` so that
   * the good items of a batch are kept.
   */
  split(body: string, contentType: string): IngestItem[];
}

export type IngestItem = { readonly payload: unknown; readonly raw?: string } | { readonly error: string; readonly raw: string };

/** One batch read from a pulled source. */
export interface SourceBatch {
  readonly items: readonly unknown[];
  /** Resume point after this batch; stored in the same transaction as its events. */
  readonly cursor?: string;
  /** Input the source read but could not parse; kept in the quarantine with the reason. */
  readonly rejected?: readonly { readonly error: string; readonly raw: string }[];
  /** Tells the platform the batch is received. Called only after the commit. */
  ack?(): Promise<void>;
}

/** Things a source may tell the runtime besides batches: status as data. */
export type SourceSignal =
  | { readonly kind: 'connected'; readonly detail?: string }
  | { readonly kind: 'disconnected'; readonly reason: string }
  | { readonly kind: 'gap'; readonly stream?: string; readonly from?: string; readonly to?: string; readonly reason: string }
  | { readonly kind: 'auth-failed'; readonly reason: string };

export interface SourceContext<S> {
  readonly connectorId: string;
  readonly settings: S;
  /** The last saved resume point, if any. */
  readonly cursor: string | undefined;
  /** Report status; the runtime turns it into `connector.*` events and `/v1/connectors` state. */
  signal(s: SourceSignal): void;
}

/**
 * A pulled source (Benthos-style). `connect` and `read` throw `RetryableError` for transient
 * failures (the runtime backs off and reconnects) and `SwitchboardError('SB_ERR_CONNECTOR_AUTH')`
 * when credentials are refused (the runtime reports `connector.auth-failed` and backs off long).
 */
export interface Source {
  /**
   * True when the source reports `connected` itself (e.g. after its first successful request);
   * otherwise the runtime reports it when `connect` resolves.
   */
  readonly reportsConnected?: boolean;
  connect(signal: AbortSignal): Promise<void>;
  /** Waits for the next batch; `null` when none came in the source's wait window. */
  read(signal: AbortSignal): Promise<SourceBatch | null>;
  /** Outbound commands to the platform (TWIN `typing`, 1С-Коннект commands), when it takes any. */
  command?(name: string, args: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** What a connector's background service may use. */
export interface ServiceContext<S> {
  readonly connectorId: string;
  readonly settings: S;
  /** Small persistent state (caches), kept in the store. */
  readonly kv: {
    get(namespace: string, key: string): Promise<{ value: string; updatedAt: string } | undefined>;
    put(namespace: string, key: string, value: string): Promise<void>;
  };
  /** Commits events the service produced (e.g. `contact.updated`); they dedupe like any other. */
  emit(events: readonly SwitchboardEvent[]): Promise<void>;
  warn(message: string, detail?: Record<string, unknown>): void;
}

/**
 * A background service beside the pipeline (e.g. caller-name enrichment). It sees the
 * connector's events only after their commit, so it can never delay an ack.
 */
export interface ConnectorService {
  /** Called after each commit with the connector's newly stored events; must not block. */
  onCommitted(events: readonly SwitchboardEvent[]): void;
  stop(): Promise<void>;
}

export interface ConnectorDefinition<S extends Record<string, unknown> = Record<string, unknown>> {
  readonly platform: Platform;
  readonly description: string;
  /**
   * Schema of the platform's own keys in a `connectors[]` entry, besides the common `id`,
   * `platform` and `ingestToken`. Validates and documents them.
   */
  readonly settings: z.ZodMiniType<S>;
  readonly normalize: Normalizer;
  /** Present when the platform (or a relay) pushes payloads to `POST /ingest/:id`. */
  readonly ingest?: IngestSpec;
  /** Present when Switchboard reaches the platform itself; returns undefined when the settings ask for push only. */
  readonly source?: (ctx: SourceContext<S>) => Source | undefined;
  /**
   * The source is a resource of the machine it runs on (1С-Коннект's named pipe), not of the
   * network: with several instances on one store it runs on every instance configured with it,
   * not on one at a time under a lease (docs/scaling.md).
   */
  readonly hostLocal?: boolean;
  /** Present when the connector runs a background service; returns undefined when the settings ask for none. */
  readonly service?: (ctx: ServiceContext<S>) => ConnectorService | undefined;
}

/**
 * Erases a definition's settings type for the registry. The runtime validates a connector's
 * settings with its own schema before handing them to its source, so the erasure is safe.
 */
export function defineConnector<S extends Record<string, unknown>>(def: ConnectorDefinition<S>): ConnectorDefinition {
  return def as unknown as ConnectorDefinition;
}
