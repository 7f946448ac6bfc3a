/**
 * The call widget connector ("Слушатель", seed 000): web widget messages and mobile SDK codes,
 * relayed to `POST /ingest/:connectorId` by the page or the app, normalized by `normalizeWidget`.
 */
import { relayedJsonConnector } from '../json-ingest.js';
import type { ConnectorDefinition } from '../types.js';
import { normalizeWidget } from './normalize.js';
import { widgetSettings, type WidgetSettings } from './settings.js';

export { widgetSettings, type WidgetSettings };

/**
 * The call widget connector definition.
 *
 * @example
 * import { widget } from './connectors/widget/index.js';
 * widget.normalize({ code: 'RINGING', callId: 'c-1', timestamp: 1767225600000 },
 *   { connectorId: 'widget-web', receivedAt: new Date().toISOString() });
 */
export const widget: ConnectorDefinition<WidgetSettings> = relayedJsonConnector('widget', widgetSettings, normalizeWidget,
  'Call widget ("Слушатель"): web widget messages and mobile SDK codes relayed by the page or app (ringing, answer, redirect, end, greeting, chat, rating).');
