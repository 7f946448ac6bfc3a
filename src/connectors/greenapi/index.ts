/**
 * The GREEN-API (WhatsApp gateway) connector: webhook notifications pushed to
 * `POST /ingest/:connectorId`, or long polling of the instance's queue (`polling`), both
 * normalized by `normalizeGreenApi`; caller names from `getContactInfo`.
 */
import { jsonIngest } from '../json-ingest.js';
import type { ConnectorDefinition } from '../types.js';
import { callerNames } from './caller-names.js';
import { normalizeGreenApi } from './normalize.js';
import { greenApiPoller } from './poller.js';
import { greenApiSettings, type GreenApiSettings } from './settings.js';

export { greenApiSettings, type GreenApiSettings } from './settings.js';

/**
 * The GREEN-API connector definition.
 *
 * @example
 * import { greenapi } from './connectors/greenapi/index.js';
 * greenapi.normalize(webhookBody, { connectorId: 'wa-main', receivedAt: new Date().toISOString() });
 */
export const greenapi: ConnectorDefinition<GreenApiSettings> = {
  platform: 'greenapi',
  description: 'GREEN-API WhatsApp gateway: webhook notifications or long polling (calls, messages, statuses, instance state), caller names from getContactInfo.',
  settings: greenApiSettings,
  normalize: normalizeGreenApi,
  ingest: jsonIngest,
  source: greenApiPoller,
  service: callerNames,
};
