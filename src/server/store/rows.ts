/**
 * Row shapes every SQL backend reads back the same way, and how they become the contract's
 * values. No SQL and no connection here: each backend runs its own queries and hands the rows in.
 */
import type { ConnectorStats, QuarantineEntry, QuarantineResolution } from './types.js';

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
