/**
 * Outgoing webhooks: the subscriptions (config and API), the outbox filled by the commit hook,
 * the worker, replay and secret rotation. The HTTP routes are in `routes.ts`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Tracing } from '../tracing.js';
import { ConfigError, SwitchboardError } from '../../core/index.js';
import type { EventBus } from '../bus.js';
import type { SwitchboardConfig } from '../config.js';
import type { SubscriptionFilters, SubscriptionMode } from './config.js';
import type { DeliveryStore } from '../store/types.js';
import type { OutboxRow, ReplayRange, StoredSecret, Subscription } from './types.js';
import type { DeliveryMetrics } from './metrics.js';
import { resolvedProblem, systemResolver, type Resolver } from './safety.js';
import { generateSecret } from './signing.js';
import { DeliveryWorker } from './worker.js';
import { privateDir } from '../private-files.js';

export interface CreateInput {
  readonly id?: string | undefined;
  readonly url: string;
  readonly filters?: SubscriptionFilters | undefined;
  readonly mode?: SubscriptionMode | undefined;
  readonly ordered?: boolean | undefined;
  readonly secret?: string | undefined;
  readonly extraSecrets?: readonly string[] | undefined;
  readonly enabled?: boolean | undefined;
  readonly description?: string | undefined;
}

/** What a PATCH may change: the fields of a creation but the id and the secrets, each optional. */
export type PatchInput = Partial<Pick<CreateInput, 'enabled' | 'url' | 'filters' | 'mode' | 'ordered' | 'description'>>;

const DISABLED_IN_CONFIG = 'disabled in the config';
const DISABLED_BY_API = 'disabled through the API';
const REMOVED_FROM_CONFIG = 'removed from the config';

export interface WebhooksOptions {
  readonly config: SwitchboardConfig;
  /** The backend's delivery tables (usable once the store is open). */
  readonly store: DeliveryStore;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly metrics: DeliveryMetrics;
  readonly resolver?: Resolver;
  /** OpenTelemetry tracing, when on: each attempt is a span of its event's trace. */
  readonly tracing?: Tracing | undefined;
}

/**
 * How long an instance keeps a due outbox row it took (a store several instances share): twice
 * the attempt timeout and 5 s more, for the attempt and its recording. 35 s with the default
 * 15 s timeout; the rows of an instance that died are sent by another one after that.
 */
export function claimMsFor(timeoutMs: number): number {
  return 2 * timeoutMs + 5_000;
}

export class Webhooks {
  private worker: DeliveryWorker | undefined;
  private unsubscribe: (() => void) | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly resolver: Resolver;

  constructor(private readonly options: WebhooksOptions) {
    this.resolver = options.resolver ?? systemResolver;
    // New events' outbox rows are written by the backend in their commit transaction. A claimed
    // row (several instances) outlasts an attempt, bounded by the timeout, and its recording.
    options.store.configure({ firstDelayMs: options.config.delivery.retrySchedule[0] ?? 0, claimMs: claimMsFor(options.config.delivery.timeout) });
  }

  /** The backend's delivery tables. */
  get db(): DeliveryStore {
    return this.options.store;
  }

  /** Syncs the configured subscriptions; with `background`, also starts delivering. */
  async start(background = true): Promise<void> {
    await this.syncConfig();
    if (!background) return;
    const worker = new DeliveryWorker(this.db, { config: this.options.config.delivery, logger: this.options.logger, metrics: this.options.metrics, resolver: this.resolver, tracing: this.options.tracing });
    this.worker = worker;
    this.unsubscribe = this.options.bus.subscribe(() => worker.wake());
    worker.start();
    const prune = async () => {
      try {
        const n = await this.db.prune(new Date(Date.now() - this.options.config.delivery.retention));
        if (n > 0) this.options.logger.info({ removed: n }, 'delivery: removed finished outbox rows past delivery.retention');
      } catch (err) {
        this.options.logger.warn({ err }, 'delivery: pruning failed');
      }
    };
    this.pruneTimer = setInterval(() => void prune(), 3_600_000);
    this.pruneTimer.unref();
    void prune();
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.pruneTimer);
    await this.worker?.close();
  }

  private wake(): void {
    this.worker?.wake();
  }

  /**
   * Makes the stored subscriptions of origin `config` match the config file: new ones are
   * created (a generated secret is written to `<data>/subscription-<id>.secret`), changed ones
   * updated; ones no longer in the file are disabled and handed to the API. Targets that resolve
   * to non-public addresses stop the start (ConfigError); names that do not resolve only warn.
   */
  private async syncConfig(): Promise<void> {
    const { subscriptions, delivery, dataDir } = this.options.config;
    const issues: { path: string; expected: string; found: string }[] = [];
    for (const [i, c] of subscriptions.entries()) {
      const problem = await resolvedProblem(c.url, delivery.allowPrivateTargets, this.resolver);
      if (problem?.kind === 'unresolved') this.options.logger.warn({ subscription: c.id }, `subscription ${c.id}: ${problem.expected}; checked again at each delivery`);
      else if (problem) issues.push({ path: `subscriptions[${i}].url`, expected: problem.expected, found: `string ${JSON.stringify(c.url)}` });
    }
    if (issues.length > 0) throw new ConfigError(issues);
    const db = this.db;
    const inConfig = new Set<string>();
    for (const c of subscriptions) {
      inConfig.add(c.id);
      const existing = await db.get(c.id);
      if (existing && existing.origin !== 'config') this.options.logger.warn({ subscription: c.id }, `subscription ${c.id}: made through the API before, now taken over by the config`);
      const extra: StoredSecret[] = (c.extraSecrets ?? []).map((secret) => ({ secret, expiresAt: null }));
      let current = c.secret ?? existing?.secrets[0]?.secret;
      if (current === undefined) {
        current = generateSecret();
        const file = join(dataDir, `subscription-${c.id}.secret`);
        privateDir(dataDir);
        writeFileSync(file, `${current}\n`, { mode: 0o600 });
        chmodSync(file, 0o600);
        this.options.logger.info({ subscription: c.id }, `subscription ${c.id}: signing secret generated, kept in ${file}`);
      }
      await db.put({
        id: c.id,
        origin: 'config',
        url: c.url,
        filters: c.filters ?? {},
        mode: c.mode ?? 'structured',
        ordered: c.ordered ?? false,
        secrets: [{ secret: current, expiresAt: null }, ...extra],
        description: c.description,
        enabled: c.enabled !== false,
        disabledReason: DISABLED_IN_CONFIG,
      });
      const now = await db.get(c.id);
      if (now && c.enabled === false && now.enabled) await db.setEnabled(c.id, false, DISABLED_IN_CONFIG);
      if (now && c.enabled !== false && !now.enabled && now.disabledReason === DISABLED_IN_CONFIG) await db.setEnabled(c.id, true, undefined);
    }
    for (const s of await db.list()) {
      if (s.origin !== 'config' || inConfig.has(s.id)) continue;
      await db.put({ ...s, origin: 'api' });
      if (s.enabled) await db.setEnabled(s.id, false, REMOVED_FROM_CONFIG);
      this.options.logger.warn({ subscription: s.id }, `subscription ${s.id}: no longer in the config; disabled (delete or re-enable it through the API)`);
    }
  }

  list(): Promise<Subscription[]> {
    return this.db.list();
  }

  async get(id: string): Promise<Subscription> {
    const sub = await this.db.get(id);
    if (!sub) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no subscription ${id}`);
    return sub;
  }

  private async checkTarget(url: string, field = 'url'): Promise<void> {
    const problem = await resolvedProblem(url, this.options.config.delivery.allowPrivateTargets, this.resolver);
    if (!problem) return;
    const code = problem.kind === 'invalid' ? 'SB_ERR_SUBSCRIPTION_INVALID' : 'SB_ERR_SUBSCRIPTION_TARGET_REFUSED';
    throw new SwitchboardError(code, `at ${field}: expected ${problem.expected}, found ${JSON.stringify(url)}`, { detail: { field } });
  }

  /** Creates a subscription; answers it with its signing secret (shown this once). */
  async create(input: CreateInput): Promise<{ subscription: Subscription; secret: string }> {
    await this.checkTarget(input.url);
    const id = input.id ?? `sub_${randomBytes(9).toString('base64url')}`;
    if (await this.db.get(id)) throw new SwitchboardError('SB_ERR_SUBSCRIPTION_EXISTS', `a subscription ${id} exists already`, { detail: { id } });
    const secret = input.secret ?? generateSecret();
    const subscription = await this.db.put({
      id,
      origin: 'api',
      url: input.url,
      filters: input.filters ?? {},
      mode: input.mode ?? 'structured',
      ordered: input.ordered ?? false,
      secrets: [{ secret, expiresAt: null }, ...(input.extraSecrets ?? []).map((s) => ({ secret: s, expiresAt: null }))],
      description: input.description,
      enabled: input.enabled !== false,
      disabledReason: DISABLED_BY_API,
    });
    this.options.logger.info({ subscription: id }, `subscription ${id} created`);
    this.wake();
    return { subscription, secret };
  }

  /** Changes a subscription; a config one only takes `enabled`. Enabling restarts the schedule of its pending deliveries. */
  async patch(id: string, input: PatchInput): Promise<Subscription> {
    const sub = await this.get(id);
    const fields = (Object.keys(input) as (keyof PatchInput)[]).filter((k) => input[k] !== undefined && k !== 'enabled');
    if (sub.origin === 'config' && fields.length > 0) {
      throw new SwitchboardError('SB_ERR_SUBSCRIPTION_READONLY', `subscription ${id} comes from the config file: change ${fields.join(', ')} there (only enabled can be set through the API)`);
    }
    if (input.url !== undefined) await this.checkTarget(input.url);
    if (fields.length > 0) {
      await this.db.put({
        ...sub,
        url: input.url ?? sub.url,
        filters: input.filters ?? sub.filters,
        mode: input.mode ?? sub.mode,
        ordered: input.ordered ?? sub.ordered,
        description: input.description ?? sub.description,
      });
    }
    if (input.enabled !== undefined && input.enabled !== sub.enabled) {
      await this.db.setEnabled(id, input.enabled, input.enabled ? undefined : DISABLED_BY_API);
      if (!input.enabled) this.worker?.cancel(id);
      this.options.logger.info({ subscription: id }, `subscription ${id} ${input.enabled ? 'enabled' : 'disabled'} through the API`);
    }
    this.wake();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    const sub = await this.get(id);
    if (sub.origin === 'config') throw new SwitchboardError('SB_ERR_SUBSCRIPTION_READONLY', `subscription ${id} comes from the config file: remove it there`);
    this.worker?.cancel(id);
    await this.db.delete(id);
    this.options.logger.info({ subscription: id }, `subscription ${id} deleted`);
  }

  /** A new signing secret; the previous one keeps signing (a second signature) for `previousValidForMs`. */
  async rotate(id: string, secret: string | undefined, previousValidForMs: number, now = Date.now()): Promise<{ subscription: Subscription; secret: string }> {
    const sub = await this.get(id);
    if (sub.origin === 'config') throw new SwitchboardError('SB_ERR_SUBSCRIPTION_READONLY', `subscription ${id} comes from the config file: rotate with its secret and extraSecrets there`);
    const next = secret ?? generateSecret();
    const until = new Date(now + previousValidForMs).toISOString();
    const kept = sub.secrets
      .map((s, i) => (i === 0 ? { secret: s.secret, expiresAt: until } : s))
      .filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > now)
      .filter((s) => s.secret !== next)
      .slice(0, 4);
    const subscription = (await this.db.setSecrets(id, [{ secret: next, expiresAt: null }, ...kept])) as Subscription;
    this.options.logger.info({ subscription: id }, `subscription ${id}: secret rotated; the previous one signs too until ${until}`);
    return { subscription, secret: next };
  }

  /** One delivery due now (a pending one skips its wait; a failed one starts a new round). */
  async retryNow(id: string, did: number): Promise<OutboxRow> {
    await this.get(id);
    const row = await this.db.retryNow(id, did);
    if (!row) throw new SwitchboardError('SB_ERR_NOT_FOUND', `subscription ${id} has no delivery ${did}`);
    this.options.logger.info({ subscription: id, delivery: did }, `subscription ${id}: delivery ${did} is due now`);
    this.wake();
    return row;
  }

  async replay(id: string, range: ReplayRange): Promise<{ enqueued: number; alreadyPending: number; matched: number }> {
    const sub = await this.get(id);
    const result = await this.db.replay(sub, range);
    this.options.logger.info({ subscription: id, ...range, ...result }, `subscription ${id}: replay enqueued ${result.enqueued} deliveries`);
    this.wake();
    return result;
  }
}
