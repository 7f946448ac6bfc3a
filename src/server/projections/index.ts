/**
 * The projections feature (DESIGN §3): the routes of calls, conversations (with timelines) and
 * operators, and `rebuild`. The backend keeps the projections, recomputing them with the shared
 * pure folds (`fold.ts`) inside the commit transaction of every new event that concerns them.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { SwitchboardError, ValidationError } from '../../core/index.js';
import * as api from '../http/api-schemas.js';
import type { Feature, FeatureContext, V1Scope } from '../feature.js';
import { buildTimeline } from './timeline.js';
import { isTimeZone, rollUp } from './stats.js';

/** `<connectorId>:<key>` → its parts (connector ids hold no colon). */
function splitId(id: string, what: string): [string, string] {
  const i = id.indexOf(':');
  if (i <= 0) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no ${what} ${id}; ids look like <connectorId>:<key>`);
  return [id.slice(0, i), id.slice(i + 1)];
}

export function createProjections(ctx: FeatureContext): Feature & { rebuild(): Promise<{ calls: number; conversations: number; operators: number }> } {
  const store = ctx.store.projections;
  const policyOf = (connectorId: string) => {
    const c = ctx.connectors.get(connectorId);
    return { policy: c?.callRecords ?? 'all', language: c?.language ?? 'ru' };
  };
  const iso = (t: string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

  return {
    name: 'projections',
    rebuild: () => store.rebuild(),
    routes(scope: V1Scope) {
      const v1 = scope.withTypeProvider<ZodTypeProvider>();
      const tags = ['projections'];
      v1.get('/v1/calls', { schema: { tags, summary: 'Calls, newest first, filtered', querystring: api.callsQuery, response: { 200: api.callsPage, ...api.errorResponses } } }, async (req) => {
        const q = req.query;
        let conversation: { connectorId: string; conversationId: string } | undefined;
        if (q.conversation !== undefined) {
          if (q.conversation.indexOf(':') <= 0) throw new ValidationError('SB_ERR_QUERY_INVALID', `invalid query: at conversation: expected a conversation id <connectorId>:<key> (the calls' "conversation"), found ${JSON.stringify(q.conversation)}`);
          const [connectorId, conversationId] = splitId(q.conversation, 'conversation');
          conversation = { connectorId, conversationId };
        }
        const r = await store.listCalls({ platform: q.platform, connectorId: q.connector, outcome: q.outcome, state: q.state, from: iso(q.from), to: iso(q.to), party: q.party, conversation, after: q.after, limit: api.pageLimit(q.limit) });
        return { calls: r.rows, next: r.next };
      });
      v1.get('/v1/calls/:id', { schema: { tags, summary: 'A call with its events', params: api.idParams, response: { 200: api.callWithEvents, ...api.errorResponses } } }, async (req) => {
        const found = await store.getCall(...splitId(req.params.id, 'call'));
        if (!found) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no call ${req.params.id}`);
        return found;
      });
      v1.get('/v1/conversations', { schema: { tags, summary: 'Conversations, filtered', querystring: api.conversationsQuery, response: { 200: api.conversationsPage, ...api.errorResponses } } }, async (req) => {
        const q = req.query;
        const r = await store.listConversations({ platform: q.platform, connectorId: q.connector, state: q.state, clientId: q.client, after: q.after, limit: api.pageLimit(q.limit) });
        return { conversations: r.rows, next: r.next };
      });
      v1.get('/v1/conversations/:id', { schema: { tags, summary: 'A conversation', params: api.idParams, response: { 200: api.conversation, ...api.errorResponses } } }, async (req) => {
        const row = await store.getConversation(...splitId(req.params.id, 'conversation'));
        if (!row) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no conversation ${req.params.id}`);
        return row;
      });
      v1.get('/v1/conversations/:id/timeline', { schema: { tags, summary: "A conversation's timeline: messages, state changes, call records, in order", params: api.idParams, response: { 200: api.timeline, ...api.errorResponses } } }, async (req) => {
        const [connectorId, conversationId] = splitId(req.params.id, 'conversation');
        const found = await store.timelineEvents(connectorId, conversationId);
        if (!found) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no conversation ${req.params.id}`);
        const { policy, language } = policyOf(connectorId);
        return { conversationId: req.params.id, callRecords: policy, language, entries: buildTimeline(connectorId, found.own, found.calls, policy, language) };
      });
      v1.get('/v1/stats', { schema: { tags, summary: 'Contact-center KPIs per platform, connector or operator, by hour or day', querystring: api.statsQuery, response: { 200: api.stats, ...api.errorResponses } } }, async (req) => {
        const q = req.query;
        const to = q.to === undefined ? new Date() : new Date(q.to);
        const from = q.from === undefined ? new Date(to.getTime() - 86_400_000) : new Date(q.from);
        if (from >= to) throw new ValidationError('SB_ERR_QUERY_INVALID', `invalid query: at from: expected a time before to (${to.toISOString()}), found ${from.toISOString()}`);
        if (to.getTime() - from.getTime() > 400 * 86_400_000) throw new ValidationError('SB_ERR_QUERY_INVALID', 'invalid query: at from: expected a window of at most 400 days');
        const tz = q.tz ?? 'UTC';
        if (!isTimeZone(tz)) throw new ValidationError('SB_ERR_QUERY_INVALID', `invalid query: at tz: expected an IANA time zone such as "Europe/Moscow", found ${JSON.stringify(tz)}`);
        const { serviceLevelSec, shortAbandonSec } = ctx.config.stats;
        const counters = await store.stats({ from: from.toISOString(), to: to.toISOString(), by: q.by, platform: q.platform, connectorId: q.connector, serviceLevelSec, shortAbandonSec });
        return { from: from.toISOString(), to: to.toISOString(), tz, bucket: q.bucket ?? null, by: q.by ?? null, serviceLevelSec, shortAbandonSec, rows: rollUp(counters, q.bucket, tz) };
      });
      v1.get('/v1/operators', { schema: { tags, summary: "Operators' status per platform", querystring: api.operatorsQuery, response: { 200: api.operatorsPage, ...api.errorResponses } } }, async (req) => {
        const q = req.query;
        const r = await store.listOperators({ platform: q.platform, connectorId: q.connector, status: q.status, after: q.after, limit: api.pageLimit(q.limit) });
        return { operators: r.rows, next: r.next };
      });
    },
  };
}
