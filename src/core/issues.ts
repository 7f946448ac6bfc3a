/**
 * Turns schema issues into messages that name the path, what was expected and what was found.
 */
import type { core } from 'zod/mini';
import type { ConfigIssue } from './errors.js';

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
  return issues.map((issue) => {
    const found = issue.code === 'unrecognized_keys' ? `key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : describeValue(valueAt(input, issue.path));
    return { path: formatPath(issue.path, prefix), expected: expectedOf(issue), found };
  });
}

/** One line: `at a.b: expected string, found number 3; at c: …`. */
export function describeIssues(issues: readonly Issue[], input: unknown, prefix = ''): string {
  return toConfigIssues(issues, input, prefix)
    .map((i) => `at ${i.path || '(root)'}: expected ${i.expected}, found ${i.found}`)
    .join('; ');
}
