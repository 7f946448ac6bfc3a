/**
 * Turns schema issues into messages that name the path, what was expected and what was found.
 */
import type { core } from 'zod/mini';
import type { ConfigIssue } from './errors.js';
import { isSecretKey, maskUrl } from './secrets.js';

type Issue = core.$ZodIssue;

/** `a.b[2].c` from a path array. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** A text as an error message quotes it (a name or code from the payload): at most `max` characters, cut with "...". */
export function abbreviate(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** A short description of a value for error messages; never more than 60 characters, for any value. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (${v.length} item${v.length === 1 ? '' : 's'})`;
  if (typeof v === 'object') return 'an object';
  // A bigint, symbol or function: JSON has none of them.
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return `a ${typeof v}`;
  return `${typeof v} ${abbreviate(JSON.stringify(typeof v === 'string' ? v.slice(0, 41) : v))}`;
}

/** `describeValue`, but a secret (by its key, or a password in a URL) is not shown. */
function describeFound(v: unknown, path: readonly PropertyKey[]): string {
  const key = path[path.length - 1];
  if (typeof key === 'string' && isSecretKey(key) && typeof v === 'string') return `a string of ${v.length} character${v.length === 1 ? '' : 's'} (not shown: a secret)`;
  return describeValue(typeof v === 'string' ? maskUrl(v) : v);
}

function expectedOf(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `no key ${issue.keys.map((k) => `"${k}"`).join(', ')} (unknown key${issue.keys.length === 1 ? '' : 's'})`;
    case 'too_small':
      return `${issue.origin === 'string' || issue.origin === 'array' ? 'length ' : ''}>= ${String(issue.minimum)}`;
    case 'too_big':
      return `${issue.origin === 'string' || issue.origin === 'array' ? 'length ' : ''}<= ${String(issue.maximum)}`;
    case 'invalid_format':
      return `a ${issue.format} string`;
    case 'invalid_union':
      return 'one of the allowed shapes';
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message && issue.message !== 'Invalid input' ? issue.message : 'a valid value';
  }
}

/** Converts issues into `{ path, expected, found }` triples. */
export function toConfigIssues(issues: readonly Issue[], input: unknown, prefix = ''): ConfigIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'invalid_union') return unionIssues(issue, valueAt(input, issue.path), formatPath(issue.path, prefix));
    const found = issue.code === 'unrecognized_keys' ? `key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : describeFound(valueAt(input, issue.path), issue.path);
    return [{ path: formatPath(issue.path, prefix), expected: expectedOf(issue), found }];
  });
}

type UnionIssue = Extract<Issue, { code: 'invalid_union' }>;

/**
 * The issues of a value that matched no branch of a union. The branch that fits best speaks:
 * for an object, the one that knows the most of its keys and objects to the fewest (so
 * `{ email }` is told that `password` is missing, not that it is no `{ token }`). When no branch
 * stands out, one issue lists the shapes; when the value is not even of a branch's type, the
 * types.
 */
function unionIssues(issue: UnionIssue, value: unknown, path: string): ConfigIssue[] {
  const branches = issue.errors;
  const wrongType = (b: readonly Issue[]) => b.some((i) => i.code === 'invalid_type' && i.path.length === 0);
  const typed = branches.filter((b) => !wrongType(b));
  if (typed.length === 0) {
    const types = [...new Set(branches.flatMap((b) => b.flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [expectedOf(i)] : []))))];
    return [{ path, expected: types.length > 0 ? types.join(' or ') : 'one of the allowed shapes', found: describeValue(value) }];
  }
  if (typed.length === 1) return toConfigIssues(typed[0] ?? [], value, path);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [{ path, expected: 'one of the allowed shapes', found: describeValue(value) }];
  const keys = Object.keys(value);
  const fits = typed.map((b) => {
    const unknown = new Set(b.flatMap((i) => (i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : [])));
    const missing = b.flatMap((i) => (i.code === 'invalid_type' && i.path.length === 1 && (value as Record<PropertyKey, unknown>)[i.path[0] as PropertyKey] === undefined ? [String(i.path[0])] : []));
    const known = keys.filter((k) => !unknown.has(k));
    return { issues: b, known: known.length, unknown: unknown.size, shape: [...known, ...missing] };
  });
  const best = Math.max(...fits.map((f) => f.known * 1000 - f.unknown));
  const top = fits.filter((f) => f.known * 1000 - f.unknown === best);
  const [only] = top;
  if (top.length === 1 && only && only.known > 0) return toConfigIssues(only.issues, value, path);
  const shapes = fits.map((f) => `{ ${f.shape.join(', ')} }`);
  return [{ path, expected: `one of ${shapes.join(' or ')}`, found: keys.length === 0 ? 'an object with no keys' : `an object with key${keys.length === 1 ? '' : 's'} ${keys.map((k) => `"${k}"`).join(', ')}` }];
}

/** One line: `at a.b: expected string, found number 3; at c: …`. */
export function describeIssues(issues: readonly Issue[], input: unknown, prefix = ''): string {
  return toConfigIssues(issues, input, prefix)
    .map((i) => `at ${i.path || '(root)'}: expected ${i.expected}, found ${i.found}`)
    .join('; ');
}
