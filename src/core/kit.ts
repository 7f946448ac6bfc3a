/**
 * The connector kit: the small readers every normalizer needs, written once (issue 20). Pure and
 * isomorphic, like the rest of the core.
 */
import type * as z from 'zod/mini';
import { invalidPayload, isRecord } from './normalizer.js';
import { describeIssues } from './issues.js';

/** Drops keys whose value is `undefined`, so that events hold only what the platform gave. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
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
 * Parses with a schema, or throws `SB_ERR_INGEST_INVALID_PAYLOAD` naming the failing paths
 * (from `root`, e.g. `data.data` for a publication's payload) and `what` was being read.
 */
export function parseWith<S extends z.ZodMiniType>(schema: S, data: unknown, what: string, root?: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (!result.success) invalidPayload(`${what}: ${describeIssues(result.error.issues, data, root)}`);
  return result.data as z.infer<S>;
}
