/**
 * Row shapes every SQL backend reads back the same way, and how they become the contract's
 * values. No SQL and no connection here: each backend runs its own queries and hands the rows in.
 */
import type { SubscriptionFilters } from '../delivery/config.js';
import type { AttemptRecord, StoredSecret, Subscription } from '../delivery/types.js';
import type { ConnectorStats, QuarantineEntry, QuarantineResolution, StatsCounters } from './types.js';

/** A row of `quarantine`, with `raw` already as text. */
export interface QuarantineRowText {
  readonly qid: number | string;
  readonly connector_id: string;
  readonly received_at: string;
  readonly code: string;
  readonly reason: string;
  readonly content_type: string | null;
  readonly raw: string;
  readonly raw_encoding: 'base64' | null;
  readonly resolution: string | null;
}

export function quarantineEntry(r: QuarantineRowText): QuarantineEntry {
  return {
    id: String(r.qid),
    connectorId: r.connector_id,
    receivedAt: r.received_at,
    code: r.code,
    reason: r.reason,
    contentType: r.content_type ?? undefined,
    raw: r.raw,
    ...(r.raw_encoding === null ? {} : { rawEncoding: r.raw_encoding }),
    ...(r.resolution === null ? {} : { resolution: JSON.parse(r.resolution) as QuarantineResolution }),
  };
}

/** Per-connector counts of events (with the last sequence and receipt) and of quarantined input, merged: a connector with only quarantined input is listed too. */
export function connectorStatsOf(events: readonly { connectorId: string; events: number; lastSequence: number; lastReceivedAt: string }[], quarantined: ReadonlyMap<string, number>): ConnectorStats[] {
  const out: ConnectorStats[] = events.map((r) => ({ ...r, quarantined: quarantined.get(r.connectorId) ?? 0 }));
  for (const [connectorId, n] of quarantined) {
    if (!out.some((s) => s.connectorId === connectorId)) out.push({ connectorId, events: 0, lastSequence: undefined, lastReceivedAt: undefined, quarantined: n });
  }
  return out;
}

/** A row of `subscriptions` (0/1 flags, JSON filters and secrets). */
export interface SubscriptionRow {
  id: string;
  origin: string;
  url: string;
  filters: string;
  mode: string;
  ordered: number;
  secrets: string;
  description: string | null;
  enabled: number;
  disabled_reason: string | null;
  disabled_at: string | null;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

export function toSubscription(r: SubscriptionRow): Subscription {
  return {
    id: r.id,
    origin: r.origin === 'config' ? 'config' : 'api',
    url: r.url,
    filters: JSON.parse(r.filters) as SubscriptionFilters,
    mode: r.mode === 'binary' ? 'binary' : 'structured',
    ordered: r.ordered === 1,
    secrets: JSON.parse(r.secrets) as StoredSecret[],
    description: r.description ?? undefined,
    enabled: r.enabled === 1,
    disabledReason: r.disabled_reason ?? undefined,
    disabledAt: r.disabled_at ?? undefined,
    failingSince: r.failing_since ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** A counters row as a backend's query gives it: the UTC hour (`YYYY-MM-DDTHH`), the group key, and counters (numbers, or text from a driver). */
export type StatsRow = Record<string, unknown> & { hour: string; key: string | null };

const STATS_ZERO: Omit<StatsCounters, 'hour' | 'key'> = {
  inbound: 0,
  answeredInbound: 0,
  unansweredInbound: 0,
  abandoned: 0,
  shortAbandoned: 0,
  answeredInServiceLevel: 0,
  answerWaitSec: 0,
  answerWaitCount: 0,
  outbound: 0,
  answeredOutbound: 0,
  talkSec: 0,
  talkCount: 0,
  inProgress: 0,
  chats: 0,
  firstResponseSec: 0,
  firstResponseCount: 0,
  assignmentSec: 0,
  assignmentCount: 0,
};

/** The calls' and the chats' counter rows merged per hour and key (missing counters 0), in hour then key order. */
export function mergeStatsRows(rowSets: readonly (readonly StatsRow[])[]): StatsCounters[] {
  const merged = new Map<string, StatsCounters>();
  for (const rows of rowSets) {
    for (const r of rows) {
      const id = `${r.hour}\u0000${r.key ?? ''}`;
      const next: Record<string, unknown> = { ...(merged.get(id) ?? { ...STATS_ZERO, hour: `${r.hour}:00:00.000Z`, key: r.key }) };
      for (const [k, v] of Object.entries(r)) if (k !== 'hour' && k !== 'key' && (typeof v === 'number' || (typeof v === 'string' && v !== ''))) next[k] = Number(v);
      merged.set(id, next as unknown as StatsCounters);
    }
  }
  return [...merged.values()].sort((a, b) => (a.hour === b.hour ? (a.key ?? '').localeCompare(b.key ?? '') : a.hour < b.hour ? -1 : 1));
}

/** A subscription to disable after some attempts: 410 Gone, or failing longer than `delivery.disableAfter`. */
export interface ToDisable {
  readonly id: string;
  readonly reason: string;
  readonly kind: 'gone' | 'failing';
}

/**
 * The failure streaks of subscriptions over a run of attempt records, in order: a delivery ends a
 * streak, a failure starts one (or continues the subscription's `failingSince`), and a streak
 * longer than `disableAfterMs` — or a 410 — disables the subscription.
 */
export class FailureStreaks {
  /** By subscription: when its streak started, or null when a delivery ended it. */
  readonly failing = new Map<string, string | null>();
  private readonly disable = new Map<string, ToDisable>();

  constructor(
    private readonly disableAfterMs: number,
    private readonly now: number,
  ) {}

  /** Notes one attempt of `sub` (undefined: deleted meanwhile). */
  note(r: AttemptRecord, sub: Subscription | undefined): void {
    if (r.result === 'delivered') {
      this.failing.set(r.subscriptionId, null);
      return;
    }
    if (!sub) return;
    const iso = new Date(this.now).toISOString();
    if (r.result === 'gone') {
      this.disable.set(sub.id, { id: sub.id, kind: 'gone', reason: `the target answered 410 Gone at ${iso}` });
      return;
    }
    const since = this.failing.has(sub.id) ? this.failing.get(sub.id) : (sub.failingSince ?? null);
    const start = since ?? new Date(r.startedAt).toISOString();
    this.failing.set(sub.id, start);
    if (this.now - Date.parse(start) >= this.disableAfterMs && !this.disable.has(sub.id)) {
      this.disable.set(sub.id, { id: sub.id, kind: 'failing', reason: `every attempt failed since ${start} (longer than delivery.disableAfter); last: ${r.error ?? `HTTP ${r.status ?? '?'}`}` });
    }
  }

  toDisable(): ToDisable[] {
    return [...this.disable.values()];
  }
}

/** The error of a pending delivery whose event retention removed (the row is marked failed). */
export const REMOVED_BEFORE_DELIVERY = 'the event was removed by retention before it was delivered';
