/** The `retention` config (docs/privacy.md); the job is in `retention.ts`. */
import { z } from 'zod/mini';
import { duration } from './delivery/config.js';
import type { RetentionWindows } from './store/retention-plan.js';

/** A window: a duration of at least 1 s. */
const window = z.pipe(duration, z.number().check(z.refine((ms) => ms >= 1_000, 'a window of at least 1 s, such as "90d"')));

export const retentionSchema = z.strictObject({
  /** The default window of events (absent: events are kept for ever, but for the overrides). */
  events: z.optional(window),
  /** Windows per connector id. */
  connectors: z._default(z.record(z.string(), window), {}),
  /** Windows per type pattern (`message.*`, `call.ended`); the first that matches, in this order, wins over the connector's. */
  types: z._default(z.record(z.string(), window), {}),
  /** The quarantine's own window (absent: kept for ever). */
  quarantine: z.optional(window),
  /** How often a pass runs (default 1 h). */
  interval: z._default(window, 3_600_000),
  /** Before events go, write them to NDJSON (gzip) files per day in this folder (docs/privacy.md, "Archive"). */
  archive: z.optional(
    z.union([
      z.strictObject({ folder: z.string().check(z.minLength(1)) }),
      z.strictObject({
        s3: z.strictObject({
          bucket: z.string().check(z.minLength(1)),
          prefix: z._default(z.string(), ''),
          endpoint: z.optional(z.url()),
          region: z._default(z.string(), 'us-east-1'),
          forcePathStyle: z.optional(z.boolean()),
          accessKeyId: z.optional(z.string()),
          secretAccessKey: z.optional(z.string()),
        }),
      }),
    ]),
  ),
  /** Events looked at per transaction (default 1,000). */
  chunk: z._default(z.int().check(z.minimum(1), z.maximum(100_000)), 1_000),
});

export type RetentionConfig = z.output<typeof retentionSchema>;

/** Whether the config asks for any removal at all. */
export function retentionEnabled(c: RetentionConfig): boolean {
  return c.events !== undefined || c.quarantine !== undefined || Object.keys(c.connectors).length > 0 || Object.keys(c.types).length > 0;
}

export function windowsOf(c: RetentionConfig): RetentionWindows {
  return { eventsMs: c.events, connectorsMs: c.connectors, typesMs: Object.entries(c.types) };
}

