/**
 * The 1С-Коннект connector's own keys of a `connectors[]` entry, with the seed's vocabulary they
 * name (modes, objects, initiators) and the default subscriptions. Its `index.ts`, pipe source and
 * normalizer's callers read them from here, so none of them imports `index.ts`.
 */
import * as z from 'zod/mini';
import { MAX_BODY_BYTES } from './framing.js';
import { isTimeZone } from './normalize.js';

// ─── the seed's vocabulary ──────────────────────────────────────────────────────────────────────

/** Where an event happens ("Возможные места возникновения события"). */
export const CONNECT1C_MODES = ['ServicesClients', 'Colleagues', 'PersonalContacts', 'Softphone', 'GroupChats'] as const;
/** The objects of mass events, which the application sends only to subscribers. */
export const CONNECT1C_MASS_OBJECTS = ['Message', 'Call', 'RemoteAccessSession', 'Treatment', 'AgentOnlineStatus'] as const;
/** `Incoming`: the counterpart acted; `Self`: this account did. */
export const CONNECT1C_INITIATORS = ['Incoming', 'Self'] as const;

export interface Connect1cSubscription {
  readonly mode: string;
  readonly object: string;
  readonly initiator: string;
}

/**
 * Which mass objects each mode can carry, from the seed's conditions: `Treatment` exists only
 * with `Mode="ServicesClients"`; the softphone's only property is the number called, so it
 * carries calls; a group chat carries its members' messages and conference calls; the chat
 * modes carry messages, calls, remote-access sessions and the counterparts' online status.
 */
const OBJECTS_BY_MODE: Readonly<Record<(typeof CONNECT1C_MODES)[number], readonly (typeof CONNECT1C_MASS_OBJECTS)[number][]>> = {
  ServicesClients: ['Message', 'Call', 'RemoteAccessSession', 'Treatment', 'AgentOnlineStatus'],
  Colleagues: ['Message', 'Call', 'RemoteAccessSession', 'AgentOnlineStatus'],
  PersonalContacts: ['Message', 'Call', 'RemoteAccessSession', 'AgentOnlineStatus'],
  Softphone: ['Call'],
  GroupChats: ['Message', 'Call'],
};

/**
 * The subscriptions sent when the settings give none: every mode's mass objects (see above) with
 * both initiators — 32 combinations. A combination the application does not know is answered
 * with a non-success `CommandResult`, which costs nothing.
 *
 * @example
 * DEFAULT_SUBSCRIPTIONS.length; // 32
 * DEFAULT_SUBSCRIPTIONS[0];     // { mode: 'ServicesClients', object: 'Message', initiator: 'Incoming' }
 */
export const DEFAULT_SUBSCRIPTIONS: readonly Connect1cSubscription[] = CONNECT1C_MODES.flatMap((mode) =>
  OBJECTS_BY_MODE[mode].flatMap((object) => CONNECT1C_INITIATORS.map((initiator) => ({ mode, object, initiator }))),
);

/** Longest XML a frame can carry, in characters. */
export const MAX_FRAME_CHARS = Math.floor(MAX_BODY_BYTES / 2);

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
