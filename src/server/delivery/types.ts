/**
 * What delivery keeps in the store, as the backends' delivery contract (`DeliveryStore` in
 * `../store/types.ts`) speaks it, and the pure matching of events against a subscription's
 * filters shared by every backend.
 */
// Direct module imports (not core/index.js): the SQLite writer thread loads this file, and the
// index would bring every data schema (zod) into its isolate.
import type { SwitchboardEvent } from '../../core/index.js';
import { compileTypePattern } from '../../core/pattern.js';
import type { SubscriptionFilters, SubscriptionMode } from './config.js';

export interface StoredSecret {
  readonly secret: string;
  /** ISO time after which the secret no longer signs; `null` while it is current. */
  readonly expiresAt: string | null;
}

export interface Subscription extends SubscriptionInput {
  readonly disabledAt: string | undefined;
  readonly failingSince: string | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface OutboxRow {
  did: number;
  subscription_id: string;
  seq: number;
  event_id: string;
  subject: string;
  status: DeliveryStatus;
  attempts: number;
  rounds: number;
  next_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface AttemptRow {
  aid: number;
  did: number;
  round: number;
  attempt: number;
  started_at: string;
  duration_ms: number;
  status: number | null;
  error: string | null;
  result: string;
}

export type AttemptResult = 'delivered' | 'failed' | 'exhausted' | 'gone';

/** What the worker reports about one attempt. */
export interface AttemptRecord {
  readonly did: number;
  readonly subscriptionId: string;
  readonly round: number;
  readonly attempt: number;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly status: number | undefined;
  readonly error: string | undefined;
  readonly result: AttemptResult;
  /** Pending rows: when to try again. */
  readonly nextAt: number | undefined;
}

export type Matcher = (e: SwitchboardEvent) => boolean;

/** A predicate of a subscription's filters. */
export function filtersMatcher(f: SubscriptionFilters): Matcher {
  const typeOk = f.types ? compileTypePattern(f.types.join(',')) : () => true;
  const subject = f.subject;
  const subjectOk = subject === undefined ? () => true : subject.endsWith('*') ? (s: string) => s.startsWith(subject.slice(0, -1)) : (s: string) => s === subject;
  return (e) => typeOk(e.type) && (f.platform === undefined || e.platform === f.platform) && subjectOk(e.subject);
}

/** Fields of a new or replaced subscription. */
export interface SubscriptionInput {
  readonly id: string;
  readonly origin: 'config' | 'api';
  readonly url: string;
  readonly filters: SubscriptionFilters;
  readonly mode: SubscriptionMode;
  readonly ordered: boolean;
  /** The signing secret first, then older ones still valid. */
  readonly secrets: readonly StoredSecret[];
  readonly description: string | undefined;
  readonly enabled: boolean;
  readonly disabledReason: string | undefined;
}

export interface DeliveryListQuery {
  readonly subscriptionId: string;
  readonly status?: DeliveryStatus | undefined;
  readonly after?: number | undefined;
  readonly limit: number;
}

export interface ReplayRange {
  readonly fromSequence?: number | undefined;
  readonly toSequence?: number | undefined;
  readonly fromTime?: string | undefined;
  readonly toTime?: string | undefined;
  /** Only events whose delivery to this subscription failed (retries exhausted). */
  readonly onlyFailed?: boolean | undefined;
}

