/**
 * The counters of `GET /v1/stats` (docs/projections.md, "KPIs"), aggregated by PostgreSQL over the
 * calls and conversations rows: one row per UTC hour and group — the same counters as the SQLite
 * backend's `../sqlite/stats.ts`. The KPIs are ratios of these sums, computed by the shared
 * `src/server/projections/stats.ts`.
 */
import { mergeStatsRows, type StatsRow } from '../rows.js';
import type { StatsCounters, StatsGroup, StatsQuery } from '../types.js';
import type { Queryable } from './queryable.js';

/** Reasons of an unanswered inbound call that mean the caller ended it (docs/events.md). */
const ABANDON_REASONS = "('caller-hung-up', 'caller-gave-up', 'cancelled')";

/** A field of a row's JSON body, as text / as a number. */
const field = (name: string) => `(body::jsonb ->> '${name}')`;
const num = (name: string) => `${field(name)}::float8`;

/** Seconds between two ISO times in a row's JSON body. */
const secondsBetween = (a: string, b: string) => `extract(epoch FROM (${field(b)}::timestamptz - ${field(a)}::timestamptz))::float8`;

const KEY: Readonly<Record<StatsGroup | 'none', string>> = {
  none: 'NULL::text',
  platform: 'platform',
  connector: 'connector_id',
  operator: `CASE WHEN (body::jsonb #>> '{operator,id}') IS NULL THEN NULL ELSE connector_id || ':' || (body::jsonb #>> '{operator,id}') END`,
};

const n = (cond: string) => `count(*) FILTER (WHERE ${cond})`;

const CALLS = `
  SELECT substr(started_at, 1, 13) AS hour, k AS key,
    ${n("dir = 'inbound' AND outcome IS NOT NULL")} AS "inbound",
    ${n("dir = 'inbound' AND outcome = 'answered'")} AS "answeredInbound",
    ${n("dir = 'inbound' AND outcome IS NOT NULL AND outcome <> 'answered'")} AS "unansweredInbound",
    ${n("dir = 'inbound' AND abandoned")} AS "abandoned",
    ${n("dir = 'inbound' AND abandoned AND ring < $4")} AS "shortAbandoned",
    ${n("dir = 'inbound' AND outcome = 'answered' AND wait IS NOT NULL AND wait <= $3")} AS "answeredInServiceLevel",
    coalesce(sum(wait) FILTER (WHERE dir = 'inbound' AND outcome = 'answered'), 0) AS "answerWaitSec",
    count(wait) FILTER (WHERE dir = 'inbound' AND outcome = 'answered') AS "answerWaitCount",
    ${n("dir = 'outbound' AND outcome IS NOT NULL")} AS "outbound",
    ${n("dir = 'outbound' AND outcome = 'answered'")} AS "answeredOutbound",
    coalesce(sum(talk) FILTER (WHERE outcome = 'answered' AND talk > 0), 0) AS "talkSec",
    count(talk) FILTER (WHERE outcome = 'answered' AND talk > 0) AS "talkCount",
    ${n('outcome IS NULL')} AS "inProgress"
  FROM (
    SELECT started_at, outcome, %KEY% AS k,
      ${field('direction')} AS dir,
      coalesce(outcome IS NOT NULL AND outcome <> 'answered' AND ${field('reason')} IN ${ABANDON_REASONS}, false) AS abandoned,
      coalesce(${num('durationSec')}, ${secondsBetween('ringingAt', 'endedAt')}) AS ring,
      ${secondsBetween('ringingAt', 'answeredAt')} AS wait,
      ${num('talkSec')} AS talk
    FROM calls WHERE started_at >= $1 AND started_at < $2 %WHERE%
  ) AS c
  GROUP BY hour, key`;

const CHATS = `
  SELECT substr(opened, 1, 13) AS hour, k AS key,
    ${n('messages > 0')} AS "chats",
    coalesce(sum(response), 0) AS "firstResponseSec", count(response) AS "firstResponseCount",
    coalesce(sum(assignment), 0) AS "assignmentSec", count(assignment) AS "assignmentCount"
  FROM (
    SELECT ${field('openedAt')} COLLATE "C" AS opened, %KEY% AS k, ${num('messages')} AS messages,
      ${num('firstResponseSec')} AS response,
      ${secondsBetween('openedAt', 'assignedAt')} AS assignment
    FROM conversations WHERE true %WHERE%
  ) AS c
  WHERE opened >= $1 AND opened < $2
  GROUP BY hour, key`;

export async function postgresStats(q: Queryable, query: StatsQuery): Promise<StatsCounters[]> {
  const rowSets: StatsRow[][] = [];
  for (const [template, extra] of [
    [CALLS, [query.serviceLevelSec, query.shortAbandonSec]],
    [CHATS, []],
  ] as const) {
    const values: unknown[] = [query.from, query.to, ...extra];
    let where = '';
    for (const [column, v] of [
      ['platform', query.platform],
      ['connector_id', query.connectorId],
    ] as const) {
      if (v === undefined) continue;
      values.push(v);
      where += ` AND ${column} = $${values.length}`;
    }
    // Counts come as BIGINT, sums as float8: both read as numbers.
    rowSets.push((await q.query<StatsRow>(template.replace('%KEY%', KEY[query.by ?? 'none']).replace('%WHERE%', where), values)).rows);
  }
  return mergeStatsRows(rowSets);
}
