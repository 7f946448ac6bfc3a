/**
 * The counters of `GET /v1/stats` (docs/projections.md, "KPIs"), aggregated by SQLite over the
 * calls and conversations rows: one row per UTC hour and group. The KPIs are ratios of these
 * sums, computed by the shared `src/server/projections/stats.ts`.
 */
import type Database from 'better-sqlite3';
import { mergeStatsRows, type StatsRow } from '../rows.js';
import type { StatsCounters, StatsGroup, StatsQuery } from '../types.js';
import { filters } from './where.js';

/** Reasons of an unanswered inbound call that mean the caller ended it (docs/events.md). */
const ABANDON_REASONS = "('caller-hung-up', 'caller-gave-up', 'cancelled')";

/** Seconds between two ISO times in a row's JSON body. */
const secondsBetween = (a: string, b: string) => `(julianday(json_extract(body, '$.${b}')) - julianday(json_extract(body, '$.${a}'))) * 86400.0`;

const KEY: Readonly<Record<StatsGroup | 'none', string>> = {
  none: 'NULL',
  platform: 'platform',
  connector: 'connector_id',
  operator: "CASE WHEN json_extract(body, '$.operator.id') IS NULL THEN NULL ELSE connector_id || ':' || json_extract(body, '$.operator.id') END",
};

const CALLS = `
  SELECT substr(started_at, 1, 13) AS hour, k AS key,
    sum(dir = 'inbound' AND outcome IS NOT NULL) AS inbound,
    sum(dir = 'inbound' AND outcome = 'answered') AS answeredInbound,
    sum(dir = 'inbound' AND outcome IS NOT NULL AND outcome <> 'answered') AS unansweredInbound,
    sum(dir = 'inbound' AND abandoned) AS abandoned,
    sum(dir = 'inbound' AND abandoned AND ring < @shortAbandonSec) AS shortAbandoned,
    sum(dir = 'inbound' AND outcome = 'answered' AND wait IS NOT NULL AND wait <= @serviceLevelSec) AS answeredInServiceLevel,
    total(CASE WHEN dir = 'inbound' AND outcome = 'answered' THEN wait END) AS answerWaitSec,
    count(CASE WHEN dir = 'inbound' AND outcome = 'answered' THEN wait END) AS answerWaitCount,
    sum(dir = 'outbound' AND outcome IS NOT NULL) AS outbound,
    sum(dir = 'outbound' AND outcome = 'answered') AS answeredOutbound,
    total(CASE WHEN outcome = 'answered' AND talk > 0 THEN talk END) AS talkSec,
    count(CASE WHEN outcome = 'answered' AND talk > 0 THEN talk END) AS talkCount,
    sum(outcome IS NULL) AS inProgress
  FROM (
    SELECT started_at, outcome, %KEY% AS k,
      json_extract(body, '$.direction') AS dir,
      outcome IS NOT NULL AND outcome <> 'answered' AND json_extract(body, '$.reason') IN ${ABANDON_REASONS} AS abandoned,
      coalesce(json_extract(body, '$.durationSec'), ${secondsBetween('ringingAt', 'endedAt')}) AS ring,
      ${secondsBetween('ringingAt', 'answeredAt')} AS wait,
      json_extract(body, '$.talkSec') AS talk
    FROM calls WHERE started_at >= @from AND started_at < @to %WHERE%
  )
  GROUP BY hour, key`;

const CHATS = `
  SELECT substr(opened, 1, 13) AS hour, k AS key,
    sum(messages > 0) AS chats,
    total(response) AS firstResponseSec, count(response) AS firstResponseCount,
    total(assignment) AS assignmentSec, count(assignment) AS assignmentCount
  FROM (
    SELECT json_extract(body, '$.openedAt') AS opened, %KEY% AS k, json_extract(body, '$.messages') AS messages,
      json_extract(body, '$.firstResponseSec') AS response,
      ${secondsBetween('openedAt', 'assignedAt')} AS assignment
    FROM conversations WHERE 1 %WHERE%
  )
  WHERE opened >= @from AND opened < @to
  GROUP BY hour, key`;


export function sqliteStats(db: Database.Database, q: StatsQuery): StatsCounters[] {
  const f = filters();
  f.add('platform = @platform', q.platform);
  f.add('connector_id = @connectorId', q.connectorId);
  const where = f.where.map((w) => ` AND ${w}`).join('');
  const sql = (template: string) => template.replace('%KEY%', KEY[q.by ?? 'none']).replace('%WHERE%', where);
  const params = { from: q.from, to: q.to, serviceLevelSec: q.serviceLevelSec, shortAbandonSec: q.shortAbandonSec, platform: q.platform ?? null, connectorId: q.connectorId ?? null };
  return mergeStatsRows(
    [CALLS, CHATS].map((template) => {
      // Named parameters a statement does not use must not be passed.
      const text = sql(template);
      const used = Object.fromEntries(Object.entries(params).filter(([k]) => text.includes(`@${k}`)));
      return db.prepare<[Record<string, unknown>], StatsRow>(text).all(used);
    }),
  );
}
