/**
 * Limits on the shape of a native payload, checked right after it is parsed and before anything
 * walks it recursively (JSON.stringify, canonical JSON, schemas): a payload nested thousands of
 * levels deep would otherwise overflow the call stack wherever it went next. The measure itself
 * uses no recursion. Pure: runs in the browser module too.
 */
import { ValidationError } from './errors.js';

export interface PayloadLimits {
  /** Deepest nesting of objects and arrays in one payload; `{}` and `[]` are 1 level. */
  readonly maxDepth: number;
  /** Most object keys plus array elements in one payload, counted through every level. */
  readonly maxKeys: number;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = { maxDepth: 64, maxKeys: 10_000 };

/** `4501` → `4,501`. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

interface Frame {
  readonly node: object;
  readonly children: readonly unknown[];
  next: number;
}

/** Why a payload cannot go on: its code and a message naming the limit and the value found. */
export interface LimitBreach {
  readonly code: 'SB_ERR_INGEST_LIMIT' | 'SB_ERR_INGEST_INVALID_PAYLOAD';
  readonly message: string;
}

/**
 * Why a payload is over the limits, or undefined when it is within them: `nested 4,501 levels
 * deep; the limit is 64 (server.limits.maxDepth)`, `holds 12,000 keys and array elements; the
 * limit is 10,000 (server.limits.maxKeys)`, or (an object handed to the library) that it refers
 * to itself, which no JSON does.
 */
export function payloadLimitBreach(value: unknown, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): LimitBreach | undefined {
  let depth = 0;
  let keys = 0;
  const path: Frame[] = [];
  const onPath = new Set<object>();
  const enter = (node: object): boolean => {
    if (onPath.has(node)) return false;
    const children = Array.isArray(node) ? (node as unknown[]) : Object.values(node);
    keys += children.length;
    onPath.add(node);
    path.push({ node, children, next: 0 });
    if (path.length > depth) depth = path.length;
    return true;
  };
  if (value !== null && typeof value === 'object') enter(value);
  while (path.length > 0) {
    const top = path[path.length - 1] as Frame;
    if (top.next < top.children.length) {
      const child = top.children[top.next++];
      if (child !== null && typeof child === 'object' && !enter(child)) return { code: 'SB_ERR_INGEST_INVALID_PAYLOAD', message: `refers to itself ${grouped(path.length)} levels deep; a payload must be JSON` };
    } else {
      onPath.delete(top.node);
      path.pop();
    }
  }
  if (depth > limits.maxDepth) return { code: 'SB_ERR_INGEST_LIMIT', message: `nested ${grouped(depth)} levels deep; the limit is ${grouped(limits.maxDepth)} (server.limits.maxDepth)` };
  if (keys > limits.maxKeys) return { code: 'SB_ERR_INGEST_LIMIT', message: `holds ${grouped(keys)} keys and array elements; the limit is ${grouped(limits.maxKeys)} (server.limits.maxKeys)` };
  return undefined;
}

/**
 * Parses a JSON string held inside a payload (e.g. a Threads `SURVEY` text) and applies the same
 * limits as to the payload. Throws `SyntaxError` for malformed JSON, and `ValidationError`
 * (`SB_ERR_INGEST_LIMIT`) with the breach prefixed by `where` when the value is over the limits.
 */
export function parseJsonWithin(text: string, where: string, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): unknown {
  const value = JSON.parse(text) as unknown;
  const breach = payloadLimitBreach(value, limits);
  if (breach !== undefined) throw new ValidationError(breach.code, `${where}: ${breach.message}`);
  return value;
}

/**
 * A JSON syntax error's message without the excerpt of the input V8 puts in some of them
 * (`Unexpected token 'I', "Ivan Petro"... is not valid JSON`, or `..."1234567", x]"` around a
 * token further in): the input may name a person, and these messages reach the log
 * (docs/privacy.md).
 */
export function jsonSyntaxMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/,? ?(?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, ' (not valid JSON)');
}
