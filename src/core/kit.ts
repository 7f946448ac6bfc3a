/**
 * The connector kit: the small readers every normalizer needs, written once (issue 20). Pure and
 * isomorphic, like the rest of the core, and importing nothing: the projection folds use it too,
 * in the SQLite writer's thread, which must not load the event model's schemas.
 */

/** Narrows `unknown` to a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Drops keys whose value is `undefined`, so that events hold only what the platform gave. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

/** A string (empty included), else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A non-empty string, else undefined (platforms send `""` for absent names and captions). */
export function nz(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** An id: a non-empty string, or a finite number as a string (ids come as either). */
export function idOf(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : nz(v);
}

/** A finite number, or a string holding one. */
export function num(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** A finite number given as a number (not a string). */
export function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** An object, else an empty one: for reading optional nested fields. */
export function rec(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

/**
 * Exponential backoff with "equal jitter": the attempt's base is `initialMs·2^attempt` (attempt
 * 0 first) up to `maxMs`, and the wait a random point in its upper half — growing with every
 * failure, never a burst of immediate retries, and spread so that many clients do not retry in step.
 */
export function backoffDelay(attempt: number, o: { readonly initialMs: number; readonly maxMs: number }, random: () => number = Math.random): number {
  const base = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(base / 2 + (random() * base) / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts (leaving no listener behind). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A small seeded PRNG (mulberry32) with a uniform output in [0, 1): simulators and tests that replay. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ─── times: one parser for every platform ─────────────────────────────────────────────────────

/** The latest instant that prints as ISO 8601 (9999-12-31T23:59:59.999Z). */
export const MAX_TIME_MS = 253_402_300_799_999;

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A date and time as read: the wall clock as if it were UTC, and the zone's offset when the text names one. */
export interface DateTimeParts {
  /** The wall clock read as UTC, in ms. */
  readonly wallMs: number;
  /** The named offset from UTC in ms (`Z` = 0), or undefined for a time without a zone. */
  readonly offsetMs: number | undefined;
}

/**
 * Reads an ISO 8601 date and time: `T` or a space between date and time, optional seconds and
 * fraction (`.` or `,`), and an optional zone `Z`, `±HH`, `±HHMM` or `±HH:MM`. Undefined for any
 * other text, for impossible values (February 30, hour 24, a zone beyond ±23:59) and for years
 * before 1900.
 */
export function parseDateTime(text: string): DateTimeParts | undefined {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((s) => Number(s ?? 0)) as [number, number, number, number, number, number];
  // Years before 1900 are typing errors in these feeds (0019 for 2019), and zone data has none.
  if (year < 1900 || hour > 23 || minute > 59 || second > 59) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  // Dates roll over (2019-02-30 → March 2): one that does not come back as written is impossible.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  const wallMs = d.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + (m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000));
  const zone = m[8];
  if (zone === undefined) return { wallMs, offsetMs: undefined };
  if (zone.toUpperCase() === 'Z') return { wallMs, offsetMs: 0 };
  const zh = Number(zone.slice(1, 3));
  const zm = zone.length > 3 ? Number(zone.slice(-2)) : 0;
  if (zh > 23 || zm > 59) return undefined;
  return { wallMs, offsetMs: (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm) * 60_000 };
}

/** An instant in ms as ISO 8601 UTC, or undefined outside the years 0000–9999. */
export function isoOf(ms: number): string | undefined {
  return Number.isFinite(ms) && ms >= -62_167_219_200_000 && ms <= MAX_TIME_MS ? new Date(ms).toISOString() : undefined;
}

/**
 * The platforms' event times, read one way for all of them: an ISO 8601 date and time that names
 * its zone (see `parseDateTime`), or a Unix timestamp — seconds below 10^12, else milliseconds —
 * as a positive number or a string holding one. Returns ISO 8601 UTC, or undefined for anything
 * else, a time without a zone included: it would be read in the host's zone. Each normalizer
 * decides what undefined means (the receipt time, or a refusal naming the field).
 *
 * @example parseTime('2024-05-01 12:00:00+03') // → '2024-05-01T09:00:00.000Z'
 * @example parseTime(1714554000) // → '2024-05-01T09:00:00.000Z'
 */
export function parseTime(v: unknown): string | undefined {
  if (typeof v === 'string' && !/^\s*-?[\d.]+\s*$/.test(v)) {
    const p = parseDateTime(v);
    return p?.offsetMs === undefined ? undefined : isoOf(p.wallMs - p.offsetMs);
  }
  const n = num(v);
  return n !== undefined && n > 0 ? isoOf(n < 1e12 ? n * 1000 : n) : undefined;
}
