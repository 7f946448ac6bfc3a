/**
 * The edna Threads connector (seed 001): Threads push payloads (FCM/HCM data) relayed as they
 * arrive to `POST /ingest/:connectorId` by the app or its backend, normalized by `normalizeThreads`.
 */
import { relayedJsonConnector } from '../json-ingest.js';
import type { ConnectorDefinition } from '../types.js';
import { normalizeThreads } from './normalize.js';
import { threadsSettings, type ThreadsSettings } from './settings.js';

export { threadsSettings, type ThreadsSettings };

/**
 * The edna Threads connector definition.
 *
 * @example
 * import { threads } from './connectors/threads/index.js';
 * threads.normalize({ origin: 'threads', type: 'THREAD_OPENED', threadId: 304 },
 *   { connectorId: 'threads-app', receivedAt: new Date().toISOString() });
 */
export const threads: ConnectorDefinition<ThreadsSettings> = relayedJsonConnector('threads', threadsSettings, normalizeThreads,
  'edna Chat Center Threads: push payloads relayed by the app (threads opened and closed, operator joins, messages, reads, surveys, schedules).');
