/**
 * The 1С-Коннект connector ("API приложений" of the desktop app, seed 003): events read from the
 * application's pipe (`pipe`), or relayed as XML to `POST /ingest/:connectorId`, normalized by
 * `normalizeConnect1c`; commands (`send-message`, `raw`) written back to the pipe.
 */
import type { ConnectorDefinition, IngestItem, IngestSpec } from '../types.js';
import { DEFAULT_TIME_ZONE, isTimeZone, normalizeConnect1c } from './normalize.js';
import { Connect1cPipeSource } from './pipe.js';
import { connect1cSettings, type Connect1cSettings } from './settings.js';
import { parseXml, splitEvents } from './xml.js';

export { Connect1cPipeSource, type Connect1cCommandResult } from './pipe.js';
export {
  CONNECT1C_INITIATORS,
  CONNECT1C_MASS_OBJECTS,
  CONNECT1C_MODES,
  CONNECT1C_OBJECTS,
  DEFAULT_SUBSCRIPTIONS,
  MAX_FRAME_CHARS,
  connect1cSettings,
  type Connect1cSettings,
  type Connect1cSubscription,
} from './settings.js';

export { DEFAULT_TIME_ZONE, isTimeZone };


/**
 * The relay's bodies: `application/xml` or `text/xml` holding one `<Event>`, several, or several
 * inside wrapper elements; the XML parser finds them (`splitEvents`). A body with a DTD or entity
 * declaration, one the parser cannot read, or one without any `<Event>` is refused whole, naming
 * the problem; an `<Event>` that is not well-formed (or over the size limit) is one bad item, the
 * others are kept.
 *
 * @example
 * connect1cIngest.split('<Events><Event ID="…" …>…</Event><Event …/></Events>', 'application/xml');
 * // [{ payload: '<Event ID="…" …>…</Event>', raw: … }, { payload: '<Event …/>', raw: … }]
 */
export const connect1cIngest: IngestSpec = {
  contentTypes: ['application/xml', 'text/xml'],
  split(body: string): IngestItem[] {
    // Throws for a DTD or an entity declaration before anything else: a wrapper's DTD could
    // otherwise define what its events mean.
    return splitEvents(body).map((xml): IngestItem => {
      try {
        parseXml(xml);
        return { payload: xml, raw: xml };
      } catch (err) {
        return { error: err instanceof Error ? err.message : String(err), raw: xml };
      }
    });
  },
};

/**
 * The 1С-Коннект connector definition.
 *
 * @example
 * import { connect1c } from './connectors/connect1c/index.js';
 * connect1c.normalize('<Event ID="…" Time="2019-01-31T12:47:28" Mode="ServicesClients" Object="Call" Initiator="Incoming">…</Event>',
 *   { connectorId: 'office', receivedAt: new Date().toISOString(), settings: { timeZone: 'Europe/Moscow' } });
 */
export const connect1c: ConnectorDefinition<Connect1cSettings> = {
  platform: 'connect1c',
  description: '1С-Коннект desktop app ("API приложений"): events from its pipe or an XML relay (calls, messages, remote sessions, treatments, online status); commands back to the app.',
  settings: connect1cSettings,
  normalize: normalizeConnect1c,
  ingest: connect1cIngest,
  source: (ctx) => (ctx.settings.pipe === undefined ? undefined : new Connect1cPipeSource(ctx)),
  hostLocal: true,
};
