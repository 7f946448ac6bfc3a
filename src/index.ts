/**
 * Switchboard: one listener for contact-center and messenger event feeds.
 *
 * @example
 * import { createSwitchboard } from 'switchboard';
 * const sb = createSwitchboard({ store: { sqlite: './data/switchboard.db' } });
 * sb.on('call.ended', (e) => console.log(e.data.outcome, e.data.reason));
 * await sb.start();
 */
export { createSwitchboard, Switchboard } from './server/switchboard.js';
export type { EventOf, EventsFilter, CreateOptions } from './server/switchboard.js';
export { resolveConfig, loadConfigFile } from './server/config.js';
export type { SwitchboardConfig, SwitchboardConfigInput, ConnectorConfig } from './server/config.js';
export type { IngestResult, RejectedItem } from './server/pipeline.js';
export * from './core/index.js';
