/**
 * Server features beside the pipeline (projections, delivery): each speaks the store's async
 * contract (what the commit transaction writes for it is the backend's job), adds its own routes
 * under the authenticated `/v1` scope, and background work started and stopped with the server.
 * One line each in `features.ts`.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ConnectorDefinition } from '../connectors/types.js';
import type { EventBus } from './bus.js';
import type { ConnectorConfig, SwitchboardConfig } from './config.js';
import type { Metrics } from './metrics.js';
import type { GroupCommitter } from './pipeline.js';
import type { Store } from './store/types.js';
import type { Tracing } from './tracing.js';

/** The Fastify scope `/v1` routes are registered in (the API token is already checked there). */
export type V1Scope = FastifyInstance;

export interface FeatureConnector extends ConnectorConfig {
  readonly definition: ConnectorDefinition;
}

export interface FeatureContext {
  readonly config: SwitchboardConfig;
  /** The backend; not open yet when the feature is created: query it after `start()`. */
  readonly store: Store;
  readonly bus: EventBus;
  readonly committer: GroupCommitter;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly connectors: ReadonlyMap<string, FeatureConnector>;
  /** OpenTelemetry tracing, when on. */
  readonly tracing: Tracing | undefined;
}

export interface Feature {
  readonly name: string;
  routes?(v1: V1Scope): void | Promise<void>;
  /**
   * After the store opened, before HTTP listens. `background: false` (offline commands such as
   * `replay` and `rebuild`) asks for no workers: only what the commit transaction needs.
   */
  start?(options: { background: boolean }): Promise<void>;
  /** Before the store closes. */
  close?(): Promise<void>;
  /** Recomputes what the feature derives from the event log (`switchboard rebuild`). */
  rebuild?(): Promise<Record<string, number>>;
}

export type FeatureFactory = (ctx: FeatureContext) => Feature;
