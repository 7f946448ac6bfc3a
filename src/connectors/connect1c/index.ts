/**
 * The 1С-Коннект connector ("API приложений" of the desktop app, seed 003): events read from the
 * application's pipe (`pipe`), or relayed as XML to `POST /ingest/:connectorId`, normalized by
 * `normalizeConnect1c`; commands (`send-message`, `raw`) written back to the pipe.
 */
import * as z from 'zod/mini';
import type { ConnectorDefinition, IngestItem, IngestSpec } from '../types.js';
import { DEFAULT_TIME_ZONE, isTimeZone, normalizeConnect1c } from './normalize.js';
import { CONNECT1C_INITIATORS, CONNECT1C_MODES, Connect1cPipeSource, MAX_FRAME_CHARS } from './pipe.js';
import { parseXml, splitEvents } from './xml.js';

export { DEFAULT_SUBSCRIPTIONS, Connect1cPipeSource, type Connect1cCommandResult, type Connect1cSubscription } from './pipe.js';

export { DEFAULT_TIME_ZONE, isTimeZone };

/** Every object of the seed's list ("Возможные объекты события"); subscriptions make sense for the mass ones. */
export const CONNECT1C_OBJECTS = ['PersonalInfo', 'AgentOnlineStatus', 'Message', 'Call', 'RemoteAccessSession', 'FileTransfer', 'Treatment', 'ServiceRequest'] as const;

/**
 * The 1С-Коннект keys of a `connectors[]` entry.
 *
 * @example
 * { pipe: '\\\\.\\pipe\\BuhphoneAgentAPI2_ivanov', timeZone: 'Europe/Moscow',
 *   subscribe: [{ mode: 'ServicesClients', object: 'Call', initiator: 'Incoming' }] }
 */
export const connect1cSettings = z.strictObject({
  /**
   * The application's pipe: `\\.\pipe\BuhphoneAgentAPI2_<login>` on Windows, a Unix socket path
   * elsewhere (the simulator). Without it there is no pull source: events come only from a relay
   * posting XML to `/ingest/<id>`.
   */
  pipe: z.optional(z.string().check(z.minLength(1))),
  /** IANA zone of the application's local `Time` stamps (default Europe/Moscow). */
  timeZone: z.optional(z.string().check(z.refine(isTimeZone, { message: 'an IANA time zone such as Europe/Moscow' }))),
  /**
   * The mass events to subscribe to, one entry per combination; default `DEFAULT_SUBSCRIPTIONS`
   * (every mode's mass objects with both initiators). `[]` subscribes to nothing.
   */
  subscribe: z.optional(
    z.array(
      z.strictObject({
        mode: z.enum(CONNECT1C_MODES),
        object: z.enum(CONNECT1C_OBJECTS),
        initiator: z.enum(CONNECT1C_INITIATORS),
      }),
    ),
  ),
  /** How commands are written: UTF-8 without a header (default; what the public client does) or framed UTF-16LE like the application's own messages. */
  commandEncoding: z.optional(z.enum(['utf8', 'utf16-framed'])),
  /** How long a command waits for its CommandResult, ms (default 10000). */
  commandTimeoutMs: z.optional(z.int().check(z.gte(100))),
  /** Largest XML accepted from the pipe, in characters (default and ceiling 32767: all a frame can carry); longer frames are quarantined. */
  maxFrameChars: z.optional(z.int().check(z.gte(25), z.lte(MAX_FRAME_CHARS))),
});

export type Connect1cSettings = z.infer<typeof connect1cSettings>;

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
};
