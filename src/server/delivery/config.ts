/**
 * The config keys of delivery: `subscriptions`, `delivery` and `nats` (docs/delivery.md).
 * Durations are strings with a unit ("500ms", "5s", "5m", "2h", "5d") or numbers of milliseconds.
 */
import * as z from 'zod/mini';
import { PLATFORMS, isRecord, type ConfigIssue } from '../../core/index.js';
import { maskUrl } from '../../core/secrets.js';
import { urlProblem } from './safety.js';
import { secretProblem } from './signing.js';

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_HINT = 'a duration such as "500ms", "5s", "5m", "2h", "5d" (or a number of milliseconds)';

/** Milliseconds of a duration, or `undefined` when it is not one. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
  if (typeof v !== 'string') return undefined;
  const m = DURATION_RE.exec(v.trim());
  if (!m) return /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] ?? 1));
}

/** A duration in milliseconds. */
export const duration = z.pipe(
  z.unknown().check(z.refine((v) => parseDuration(v) !== undefined, DURATION_HINT)),
  z.transform((v) => parseDuration(v) as number),
);

function refined(check: (s: string) => boolean, expected: string) {
  return z.string().check(z.refine(check, expected));
}

export const SUBSCRIPTION_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** `*`, `call.*`, `call.ended`, `remote-session.*`. */
const TYPE_PATTERN_RE = /^(\*|[a-z0-9-]+\.(\*|[a-z0-9-]+))$/;

export const subscriptionId = refined((s) => SUBSCRIPTION_ID_RE.test(s), 'an id of letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)');
export const webhookSecret = refined((s) => secretProblem(s) === undefined, 'a secret "whsec_" + base64 of 24 to 64 random bytes');

export const filtersSchema = z.strictObject({
  /** Type patterns: `call.*`, `message.created`, `*`. Absent: every type. */
  types: z.optional(z.array(refined((s) => TYPE_PATTERN_RE.test(s), 'a type pattern such as "call.*" or "message.created"')).check(z.minLength(1))),
  platform: z.optional(z.enum(PLATFORMS)),
  /** An exact subject, or a prefix ending in `*` (`call/*`). */
  subject: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
});
export type SubscriptionFilters = z.output<typeof filtersSchema>;

export const SUBSCRIPTION_MODES = ['structured', 'binary'] as const;
export type SubscriptionMode = (typeof SUBSCRIPTION_MODES)[number];

/** The fields a subscription is made of; the URL is checked separately (it depends on `delivery`). */
export const subscriptionFields = {
  url: z.string().check(z.minLength(1), z.maxLength(2048)),
  filters: z.optional(filtersSchema),
  mode: z.optional(z.enum(SUBSCRIPTION_MODES)),
  /** Per subject, later events wait until the earlier ones are delivered or exhausted. */
  ordered: z.optional(z.boolean()),
  /** The signing secret; generated when absent. */
  secret: z.optional(webhookSecret),
  /** More secrets still valid (rotation): each request carries one signature per secret. */
  extraSecrets: z.optional(z.array(webhookSecret).check(z.maxLength(4))),
  enabled: z.optional(z.boolean()),
  description: z.optional(z.string().check(z.maxLength(500))),
};

const subscriptionConfigSchema = z.strictObject({ id: subscriptionId, ...subscriptionFields });
export type SubscriptionConfig = z.output<typeof subscriptionConfigSchema>;

/** The default retry schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

export const deliverySchema = z.strictObject({
  /** Delay before each attempt: the first is the delay of the first attempt (normally 0). */
  retrySchedule: z._default(z.array(duration).check(z.minLength(1), z.maxLength(100)), [...DEFAULT_RETRY_SCHEDULE_MS]),
  /** Whole-attempt timeout: connect, send, answer. */
  timeout: z._default(duration, 15_000),
  /** Requests in flight at once to one target (scheme, host and port). */
  concurrencyPerTarget: z._default(z.int().check(z.gte(1), z.lte(256)), 4),
  /** Requests in flight at once in total. */
  maxInFlight: z._default(z.int().check(z.gte(1), z.lte(4096)), 64),
  /** A subscription whose attempts fail for this long without a success is disabled. */
  disableAfter: z._default(duration, 5 * 86_400_000),
  /** Longest `Retry-After` honoured. */
  maxRetryAfter: z._default(duration, 86_400_000),
  /** Allow targets on loopback, private and link-local ranges (tests, internal receivers). */
  allowPrivateTargets: z._default(z.boolean(), false),
  /** Delivered and failed outbox rows (and their attempts) are removed after this long. */
  retention: z._default(duration, 30 * 86_400_000),
});
export type DeliveryConfig = z.output<typeof deliverySchema>;

const NATS_SUBJECT_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export const natsSchema = z.strictObject({
  /** `nats://host:port`, or several separated by commas. */
  url: refined((s) => s.split(',').every((u) => /^(nats|tls|wss?):\/\/[^\s]+$/.test(u.trim()) || /^[^\s:/]+:\d+$/.test(u.trim())), 'a NATS URL such as "nats://127.0.0.1:4222" (several separated by commas)'),
  /** The JetStream stream; created if missing with the subjects `<subjectPrefix>.>`. */
  stream: z._default(refined((s) => /^[A-Za-z0-9_-]{1,64}$/.test(s), 'a stream name of letters, digits, "_" or "-"'), 'SWITCHBOARD'),
  /** Events are published to `<subjectPrefix>.<platform>.<type>`. */
  subjectPrefix: z._default(refined((s) => NATS_SUBJECT_RE.test(s), 'NATS subject tokens such as "switchboard" or "acme.switchboard"'), 'switchboard'),
  /** JetStream's duplicate window when the stream is created (dedup by Nats-Msg-Id). */
  duplicateWindow: z._default(duration, 120_000),
  /** How often the acknowledged position is saved; a crash republishes at most this much. */
  cursorInterval: z._default(duration, 1_000),
  /** Publishes awaiting their acknowledgement at once. */
  maxInFlight: z._default(z.int().check(z.gte(1), z.lte(10_000)), 256),
  /** Wait for a publish acknowledgement. */
  timeout: z._default(duration, 5_000),
  token: z.optional(z.string()),
  user: z.optional(z.string()),
  pass: z.optional(z.string()),
});
export type NatsConfig = z.output<typeof natsSchema>;

export const deliveryRootKeys = {
  subscriptions: z._default(z.array(subscriptionConfigSchema), []),
  delivery: z.prefault(deliverySchema, {}),
  nats: z.optional(natsSchema),
};

/**
 * Checks across keys: unique ids, and target URLs against `delivery.allowPrivateTargets`. Reads
 * the raw values, so that it runs even when other keys have errors (those are reported by the
 * schemas).
 */
export function checkDeliveryConfig(subscriptions: unknown, delivery: unknown, issues: ConfigIssue[]): void {
  if (!Array.isArray(subscriptions)) return;
  const allowPrivate = isRecord(delivery) && delivery.allowPrivateTargets === true;
  const seen = new Set<string>();
  subscriptions.forEach((s: unknown, i) => {
    if (!isRecord(s)) return;
    if (typeof s.id === 'string') {
      if (seen.has(s.id)) issues.push({ path: `subscriptions[${i}].id`, expected: 'an id no other subscription has', found: `a second "${s.id}"` });
      seen.add(s.id);
    }
    const url = typeof s.url === 'string' ? s.url : '';
    const problem = url === '' ? undefined : urlProblem(url, allowPrivate);
    if (problem) issues.push({ path: `subscriptions[${i}].url`, expected: problem, found: `string ${JSON.stringify(maskUrl(url))}` });
  });
}
