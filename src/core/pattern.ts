/**
 * Type patterns: `call.ended`, `call.*`, `*`, or several separated by commas.
 */
import type { EventType } from './catalog.js';

type Prefix<T extends string> = T extends `${infer P}.${string}` ? P : never;

/** A pattern accepted where events are filtered by type. */
export type TypePattern = EventType | `${Prefix<EventType>}.*` | '*';

/** The event types a pattern matches, for typing handlers. */
export type TypesMatching<P extends string> = P extends '*'
  ? EventType
  : P extends `${infer Pre}.*`
    ? Extract<EventType, `${Pre}.${string}`>
    : Extract<EventType, P>;

type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S;

/**
 * The event types a filter string may match: for a `TypePattern`, or a comma-separated list of
 * them, the types it matches (as `TypesMatching`); for anything else — a string known only at
 * run time, a part that is no pattern — every type, never fewer than the filter can yield.
 */
export type TypesOfFilter<P extends string> = P extends `${infer A},${infer B}`
  ? TypesOfFilter<A> | TypesOfFilter<B>
  : Trim<P> extends TypePattern
    ? TypesMatching<Trim<P>>
    : EventType;

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Compiles a (comma-separated) pattern into a predicate on type names. */
export function compileTypePattern(pattern: string): (type: string) => boolean {
  const parts = pattern.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0 || parts.includes('*')) return () => true;
  const exact = new Set(parts.filter((p) => !p.includes('*')));
  const globs = parts.filter((p) => p.includes('*')).map(globToRegExp);
  return (type) => exact.has(type) || globs.some((g) => g.test(type));
}
