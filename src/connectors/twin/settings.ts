/** The TWIN connector's own keys of a `connectors[]` entry (its `index.ts` and source read them). */
import * as z from 'zod/mini';

const authSchema = z.union([
  z.strictObject({ token: z.string().check(z.minLength(1)) }),
  z.strictObject({
    email: z.string().check(z.minLength(3)),
    password: z.string().check(z.minLength(1)),
    /** Default https://iam.twin24.ai */
    iamUrl: z.optional(z.url({ protocol: /^https?$/ })),
    /** Lifetime asked for at login, seconds (default 86400: TWIN's recommended 24 h). */
    ttlSec: z.optional(z.int().check(z.gte(60))),
  }),
]);

/**
 * The TWIN keys of a `connectors[]` entry.
 *
 * @example
 * { url: 'wss://twin24.ai/centrifugo/connection/websocket',
 *   auth: { email: 'operator@example.com', password: '…' } }
 */
export const twinSettings = z.strictObject({
  /** Centrifugo WebSocket endpoint (default wss://twin24.ai/centrifugo/connection/websocket). */
  url: z.optional(z.url({ protocol: /^wss?$/ })),
  auth: authSchema,
  /** Reconnect delays of the client, jittered between them (defaults 500 ms and 20 s). */
  reconnect: z.optional(z.strictObject({ minDelayMs: z.optional(z.int().check(z.gte(10))), maxDelayMs: z.optional(z.int().check(z.gte(10))) })),
  /** Timeout of the connect and of every command, ms (default 10000). */
  timeoutMs: z.optional(z.int().check(z.gte(100))),
  /** Publications held before the client pauses reading (default 10000). */
  maxBuffered: z.optional(z.int().check(z.gte(10))),
  /** How the operator's `typing` is sent: a publication on `channel` (default) or an RPC. */
  outbound: z.optional(z.strictObject({ method: z.optional(z.enum(['publish', 'rpc'])), channel: z.optional(z.string()) })),
});

export type TwinSettings = z.infer<typeof twinSettings>;
