/**
 * Events as the store writes them: JSON. An event that cannot be written — a getter that throws,
 * a cycle, nesting too deep for `JSON.stringify`, text over V8's string limit, an indexed field
 * that is not a string — is found here, before it joins a group commit, so that it can never fail
 * the other requests of the group. It goes to the quarantine instead, shown as far as it can be.
 * The JSON of the others is handed to the store, which then does not serialize them again.
 */
import type { CommitBatch, QuarantineInput } from './store/types.js';

/** An event of a batch that cannot be stored. */
export interface UnstorableEvent {
  /** Its position in the batch given to `prepareBatch`. */
  readonly index: number;
  readonly code: 'SB_ERR_EVENT_INVALID';
  readonly reason: string;
}

export interface PreparedBatch {
  /** The batch as the store gets it: the storable events with their JSON; the unstorable ones appended to its quarantine. */
  readonly batch: CommitBatch;
  /** Unstorable events, in order; their quarantine entries are the last ones of `batch.quarantine`. */
  readonly unstorable: readonly UnstorableEvent[];
  /** For each event of `batch`, its position in the batch given (only when some were left out). */
  readonly positions: readonly number[] | undefined;
}

/** The fields the store indexes: each must be a string. */
const INDEXED = ['id', 'type', 'platform', 'subject', 'time'] as const;

/** Serializes every event of a batch; those that cannot be stored move to its quarantine. */
export function prepareBatch(batch: CommitBatch): PreparedBatch {
  const bodies: string[] = [];
  let unstorable: UnstorableEvent[] | undefined;
  let extra: QuarantineInput[] | undefined;
  batch.events.forEach((e, index) => {
    const json = toJson(e as unknown as Record<string, unknown>);
    if ('body' in json) {
      bodies.push(json.body);
      return;
    }
    const reason = `the event cannot be stored ${json.problem}`;
    (unstorable ??= []).push({ index, code: 'SB_ERR_EVENT_INVALID', reason });
    (extra ??= []).push({ connectorId: batch.connectorId, receivedAt: batch.receivedAt, code: 'SB_ERR_EVENT_INVALID', reason, raw: dumpUnstorable(e) });
  });
  if (!unstorable || !extra) return { batch: { ...batch, bodies }, unstorable: [], positions: undefined };
  const left = new Set(unstorable.map((u) => u.index));
  const positions = batch.events.map((_, i) => i).filter((i) => !left.has(i));
  return {
    batch: { ...batch, events: positions.map((i) => batch.events[i] as CommitBatch['events'][number]), bodies, quarantine: [...batch.quarantine, ...extra] },
    unstorable,
    positions,
  };
}

/** The event's JSON, or what keeps it from being stored. */
function toJson(e: Record<string, unknown>): { body: string } | { problem: string } {
  try {
    for (const field of INDEXED) if (typeof e[field] !== 'string') return { problem: `: its ${field} is not a string (found ${describe(e[field])})` };
    const body = JSON.stringify(e) as string | undefined;
    if (typeof body !== 'string' || !body.startsWith('{')) return { problem: 'as JSON: it is not an object' };
    return { body };
  } catch (err) {
    return { problem: `as JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

const MAX_DEPTH = 32;
const MAX_ENTRIES = 1000;
const MAX_NODES = 20_000;
const MAX_CHARS = 256 * 1024;

/**
 * JSON of a value that `JSON.stringify` refuses, shown as far as it goes: a cycle as
 * `"[circular]"`, a getter that throws as `"[getter failed: …]"`, nesting past 32 levels as
 * `"[too deep]"`, at most 1000 entries per object or array, cut at 256 KiB.
 */
export function dumpUnstorable(value: unknown): string {
  const ancestors = new Set<object>();
  let nodes = 0;
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'bigint') return `${v}`;
    if (typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (v === null || typeof v !== 'object') return v;
    if (ancestors.has(v)) return '[circular]';
    if (depth >= MAX_DEPTH) return '[too deep]';
    if (++nodes > MAX_NODES) return '[left out]';
    ancestors.add(v);
    try {
      if (Array.isArray(v)) {
        const out = v.slice(0, MAX_ENTRIES).map((x: unknown) => walk(x, depth + 1) ?? null);
        if (v.length > MAX_ENTRIES) out.push(`[${v.length - MAX_ENTRIES} more]`);
        return out;
      }
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return walk((toJSON as () => unknown).call(v), depth + 1);
      const out: Record<string, unknown> = {};
      const keys = Object.keys(v);
      for (const k of keys.slice(0, MAX_ENTRIES)) {
        try {
          const x = walk((v as Record<string, unknown>)[k], depth + 1);
          if (x !== undefined) out[k] = x;
        } catch (err) {
          out[k] = `[getter failed: ${err instanceof Error ? err.message : String(err)}]`;
        }
      }
      if (keys.length > MAX_ENTRIES) out['[more]'] = `${keys.length - MAX_ENTRIES} more keys`;
      return out;
    } catch (err) {
      return `[unreadable: ${err instanceof Error ? err.message : String(err)}]`;
    } finally {
      ancestors.delete(v);
    }
  };
  let text: string;
  try {
    text = JSON.stringify(walk(value, 0)) ?? 'null';
  } catch (err) {
    text = JSON.stringify(`[unreadable: ${err instanceof Error ? err.message : String(err)}]`);
  }
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}…[cut at ${MAX_CHARS} characters]` : text;
}
