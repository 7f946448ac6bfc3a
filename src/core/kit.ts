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
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
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
