/** The GREEN-API connector's own keys of a `connectors[]` entry (its `index.ts`, poller and caller-name service read them). */
import * as z from 'zod/mini';

/**
 * The GREEN-API keys of a `connectors[]` entry.
 *
 * @example
 * { polling: { apiUrl: 'https://api.green-api.com', idInstance: '1101000001', apiTokenInstance: '…', receiveTimeout: 20 } }
 */
export const greenApiSettings = z.strictObject({
  /** Present to poll the instance's notification queue instead of (or besides) receiving webhooks. */
  polling: z.optional(
    z.strictObject({
      apiUrl: z.url({ protocol: /^https?$/ }),
      /** The instance number; YAML `1101000001` (a number) and `"1101000001"` both work. */
      idInstance: z.pipe(z.union([z.string().check(z.minLength(1)), z.int().check(z.gte(0))]), z.transform((v) => String(v))),
      apiTokenInstance: z.string().check(z.minLength(1)),
      /** Seconds `receiveNotification` waits for a notification (GREEN-API allows 5..60; default 20). */
      receiveTimeout: z.optional(z.int().check(z.gte(5), z.lte(60))),
      /** `false`: do not poll (webhooks deliver); the credentials serve caller names only. */
      receive: z.optional(z.boolean()),
      /** Ceiling on requests per second for this instance, for receive and for delete each (GREEN-API allows 100; default 50). */
      maxRequestsPerSecond: z.optional(z.int().check(z.gte(1), z.lte(100))),
      /** Notifications larger than this are quarantined and deleted (default 1 MiB). */
      maxNotificationBytes: z.optional(z.int().check(z.gte(1024))),
    }),
  ),
  /** Look up caller names with getContactInfo (needs `polling` credentials; default true). */
  callerNames: z.optional(z.boolean()),
  /** How long a looked-up name is trusted before it is asked again (default 24). */
  callerNameTtlHours: z.optional(z.number().check(z.gt(0))),
  /** `typeWebhook` values to keep; others are still acknowledged (so the queue does not stall). */
  keepTypes: z.optional(z.array(z.string().check(z.minLength(1)))),
});

export type GreenApiSettings = z.infer<typeof greenApiSettings>;
