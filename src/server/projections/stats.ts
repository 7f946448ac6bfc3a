/**
 * Contact-center KPIs (`GET /v1/stats`, docs/projections.md "KPIs") from the backend's counters:
 * hours are added up into days (in the asked time zone) or into one total, and each KPI is a ratio
 * of the sums. Pure: the PostgreSQL backend's counters go through the same code.
 */
import type { StatsCounters } from '../store/types.js';

export type StatsBucket = 'hour' | 'day';

export interface CallKpis {
  readonly inbound: number;
  readonly answered: number;
  readonly missed: number;
  readonly abandoned: number;
  readonly shortAbandoned: number;
  readonly outbound: number;
  readonly outboundAnswered: number;
  readonly inProgress: number;
  /** answered / inbound; null without inbound calls. */
  readonly answerRate: number | null;
  /** Answered within the service-level time / (inbound − short-abandoned); null when that is 0. */
  readonly serviceLevel: number | null;
  readonly averageSpeedOfAnswerSec: number | null;
  readonly averageTalkSec: number | null;
}

export interface ChatKpis {
  readonly opened: number;
  readonly averageFirstResponseSec: number | null;
  /** Conversations with a first response (the client wrote first, then got a reply). */
  readonly responded: number;
  readonly averageTimeToAssignmentSec: number | null;
  readonly assigned: number;
}

export interface StatsRow {
  /** The hour (`…T10:00:00.000Z`, UTC) or the day (`2026-12-07`, in the asked zone); null for the total. */
  readonly period: string | null;
  /** The group's value, or null (not grouped, or calls without an operator). */
  readonly key: string | null;
  readonly calls: CallKpis;
  readonly chats: ChatKpis;
}

type Sums = Omit<StatsCounters, 'hour' | 'key'>;

const ratio = (n: number, d: number, digits = 4): number | null => (d > 0 ? Number((n / d).toFixed(digits)) : null);

function add(a: Sums | undefined, b: Sums): Sums {
  if (!a) return { ...b };
  const out: Record<string, number> = {};
  for (const k of Object.keys(b) as (keyof Sums)[]) out[k] = a[k] + b[k];
  return out as unknown as Sums;
}

/** The KPIs of a set of summed counters. */
export function kpisOf(s: Sums): { calls: CallKpis; chats: ChatKpis } {
  return {
    calls: {
      inbound: s.inbound,
      answered: s.answeredInbound,
      missed: s.unansweredInbound,
      abandoned: s.abandoned,
      shortAbandoned: s.shortAbandoned,
      outbound: s.outbound,
      outboundAnswered: s.answeredOutbound,
      inProgress: s.inProgress,
      answerRate: ratio(s.answeredInbound, s.inbound),
      serviceLevel: ratio(s.answeredInServiceLevel, s.inbound - s.shortAbandoned),
      averageSpeedOfAnswerSec: ratio(s.answerWaitSec, s.answerWaitCount, 1),
      averageTalkSec: ratio(s.talkSec, s.talkCount, 1),
    },
    chats: {
      opened: s.chats,
      averageFirstResponseSec: ratio(s.firstResponseSec, s.firstResponseCount, 1),
      responded: s.firstResponseCount,
      averageTimeToAssignmentSec: ratio(s.assignmentSec, s.assignmentCount, 1),
      assigned: s.assignmentCount,
    },
  };
}

/** Whether `tz` names a time zone this runtime knows (IANA, e.g. Europe/Moscow). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Adds the hourly counters up by period (hour, day in `tz`, or all) and group, and computes the KPIs. */
export function rollUp(counters: readonly StatsCounters[], bucket: StatsBucket | undefined, tz: string): StatsRow[] {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  const groups = new Map<string, { period: string | null; key: string | null; sums: Sums }>();
  for (const c of counters) {
    const { hour, key, ...sums } = c;
    const period = bucket === 'hour' ? hour : bucket === 'day' ? day.format(new Date(hour)) : null;
    const id = `${period ?? ''}\u0000${key ?? ''}`;
    const g = groups.get(id);
    groups.set(id, { period, key, sums: add(g?.sums, sums) });
  }
  return [...groups.values()]
    .sort((a, b) => ((a.period ?? '') === (b.period ?? '') ? (a.key ?? '').localeCompare(b.key ?? '') : (a.period ?? '') < (b.period ?? '') ? -1 : 1))
    .map((g) => ({ period: g.period, key: g.key, ...kpisOf(g.sums) }));
}
