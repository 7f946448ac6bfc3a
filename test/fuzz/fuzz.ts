/**
 * The shared parts of the fuzz suite (`test/fuzz/*.test.ts`): how many cases and which seed, the
 * contract every target is held to, and the generators.
 *
 * Size. On every `npm test` each property runs its own CI-sized number of cases (150 to 2,000)
 * with a fixed seed, so a run is repeatable and the suite stays well under 30 s.
 * The nightly long mode runs FUZZ_RUNS cases of every property instead:
 *
 *   FUZZ_RUNS=100000 npx vitest run test/fuzz            # nightly: 100,000 cases per property
 *   FUZZ_SEED=1234 npx vitest run test/fuzz              # another seed (default 20261207)
 *
 * A failure names the seed (and fast-check's path) to replay it. docs/testing.md says the same.
 */
import fc from 'fast-check';
import { connectorFor } from '../../src/connectors/registry.js';
import {
  ERROR_CODES,
  SwitchboardError,
  ValidationError,
  parseJsonWithin,
  sourceOf,
  validateEvent,
  type ErrorCode,
  type NormalizeContext,
  type Normalizer,
  type Platform,
  type SwitchboardEvent,
} from '../../src/core/index.js';
import { loadFixtures } from '../helpers/fixtures.js';

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, found ${JSON.stringify(raw)}`);
  return n;
}

/** Cases per property in long mode; undefined at CI size. */
export const FUZZ_RUNS = envInt('FUZZ_RUNS');
/** The seed of every property: fixed by default, so that CI runs are repeatable. */
export const FUZZ_SEED = envInt('FUZZ_SEED') ?? 20_261_207;
/** A test's timeout: a minute at CI size, a day in long mode. */
export const FUZZ_TIMEOUT = FUZZ_RUNS === undefined ? 60_000 : 86_400_000;

/**
 * Checks `check` on generated values: `runs` cases at CI size, FUZZ_RUNS in long mode. `check`
 * throws to fail. The failure names the seed to replay and fast-check's shrunk counterexample.
 */
export function fuzz<T>(arb: fc.Arbitrary<T>, check: (value: T) => void, runs: number): void {
  const numRuns = FUZZ_RUNS ?? runs;
  const out = fc.check(
    fc.property(arb, (v) => {
      check(v);
    }),
    { numRuns, seed: FUZZ_SEED },
  );
  if (out.failed) {
    throw new Error(`fuzz failure; replay with FUZZ_SEED=${FUZZ_SEED} FUZZ_RUNS=${numRuns}\n${fc.defaultReportMessage(out) ?? ''}`, { cause: out.errorInstance });
  }
}

// ─── the contract ─────────────────────────────────────────────────────────────────────────────

/** What a normalizer may refuse a payload with (`SB_ERR_INGEST_LIMIT`: through the server's `ctx.parseJson`). */
export const NORMALIZER_REFUSALS: readonly ErrorCode[] = ['SB_ERR_INGEST_INVALID_PAYLOAD', 'SB_ERR_INGEST_MALFORMED', 'SB_ERR_INGEST_LIMIT'];
/** What a splitter or the XML reader may refuse a body with. */
export const MALFORMED: readonly ErrorCode[] = ['SB_ERR_INGEST_MALFORMED'];
/** Longest reason accepted: it goes into HTTP answers, the quarantine and logs. */
const MAX_REASON_CHARS = 2_000;

function describeThrown(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message.slice(0, 300)}`;
  return `a non-Error ${typeof err}`;
}

/**
 * Throws unless `err` keeps the contract: a `SwitchboardError` with a catalogued code among
 * `codes` and a non-empty message of a sensible length — never a TypeError, RangeError, stack
 * overflow or a plain Error.
 */
export function expectRefusal(err: unknown, codes: readonly ErrorCode[]): void {
  if (!(err instanceof SwitchboardError)) throw new Error(`threw ${describeThrown(err)} instead of a SwitchboardError`, { cause: err });
  if (!Object.hasOwn(ERROR_CODES, err.code) || !codes.includes(err.code)) {
    throw new Error(`refused with ${err.code} (expected ${codes.join(' or ')}): ${err.message.slice(0, 300)}`, { cause: err });
  }
  if (err.message.trim() === '') throw new Error(`refused with ${err.code} and an empty message`, { cause: err });
  if (err.message.length > MAX_REASON_CHARS) throw new Error(`refused with ${err.code} and a message of ${err.message.length} characters: ${err.message.slice(0, 300)}…`, { cause: err });
}

/** Runs `f`: its result, or `undefined` after checking that what it threw keeps the contract. */
export function refusedOr<T>(f: () => T, codes: readonly ErrorCode[]): T | undefined {
  try {
    return f();
  } catch (err) {
    expectRefusal(err, codes);
    return undefined;
  }
}

export const CTX: NormalizeContext = { connectorId: 'fuzz', receivedAt: '2026-01-01T00:00:00.000Z' };
/** The context the server gives: JSON inside a payload is parsed within the default payload limits. */
export const SERVER_CTX: NormalizeContext = { ...CTX, parseJson: (text, where) => parseJsonWithin(text, where) };

/**
 * Normalizes `payload` with `normalize` and checks the contract: it refuses with a
 * `ValidationError` of a catalogued ingest code (whose message matches `refusal`, when given), or
 * returns at least one event (nothing is dropped silently), each valid, of this platform and
 * connector, and writable as JSON. Returns the events.
 */
export function normalizeWith(normalize: Normalizer, platform: Platform, payload: unknown, ctx: NormalizeContext = CTX, refusal?: RegExp): SwitchboardEvent[] | undefined {
  let events: SwitchboardEvent[];
  try {
    events = normalize(payload, ctx);
  } catch (err) {
    expectRefusal(err, NORMALIZER_REFUSALS);
    if (!(err instanceof ValidationError)) throw new Error(`${platform}: refused with ${describeThrown(err)}, not a ValidationError`, { cause: err });
    if (refusal && !refusal.test(err.message)) throw new Error(`${platform}: refused with "${err.message.slice(0, 300)}", which does not match ${String(refusal)}`, { cause: err });
    return undefined;
  }
  if (!Array.isArray(events) || events.length === 0) throw new Error(`${platform}: returned ${Array.isArray(events) ? 'no event' : typeof events}`);
  for (const e of events) {
    validateEvent(e);
    if (e.platform !== platform || e.source !== sourceOf(platform, ctx.connectorId)) throw new Error(`${platform}: event of ${e.platform} from ${e.source}`);
    JSON.stringify(e);
  }
  return events;
}

/** `normalizeWith` the platform's registered normalizer. */
export function normalizeChecked(platform: Platform, payload: unknown, ctx: NormalizeContext = CTX): SwitchboardEvent[] | undefined {
  const def = connectorFor(platform);
  if (!def) throw new Error(`no connector for ${platform}`);
  return normalizeWith(def.normalize, platform, payload, ctx);
}

// ─── generators ───────────────────────────────────────────────────────────────────────────────

/** Strings that have broken parsers before: empty, blank, line breaks, prototype keys, numbers and times at their limits, lone surrogates. */
export const trickyString: fc.Arbitrary<string> = fc.constantFrom(
  '',
  ' ',
  '\n',
  'a\nb',
  'a\u2028b',
  '\r\n',
  '\u0000',
  '\ud800',
  'x\udc00y',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '0',
  '-1',
  '1e400',
  '-0',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[]',
  '{}',
  '1700000000',
  '1700000000000',
  '99999999999999999999',
  '2026-01-01T00:00:00Z',
  '2026-01-01T00:00:00',
  '2026-02-30T10:00:00+03:00',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00.000Z',
  '0000-01-01T00:00:00Z',
  'x'.repeat(5_000),
  '<Event/>',
  '&amp;',
  '%00',
);

/** Numbers at the edges: zero and minus zero, limits, fractions, timestamps near the year 10000. */
export const trickyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e12, 1e12 - 1, 253_402_300_799, 253_402_300_800, 253_402_300_800_000, 8.64e15, 8.64e15 + 1),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }) },
  { weight: 2, arbitrary: trickyString },
);

/** Any JSON value, strings and numbers biased towards the tricky ones. */
export const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    trickyNumber,
    anyString,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(anyString, trickyString), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** Any JavaScript value a library caller could hand over (null prototypes, BigInt, Dates, typed arrays, Maps, holes, boxed values). */
export const anyValue: fc.Arbitrary<unknown> = fc.anything({
  maxDepth: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  stringUnit: 'binary',
});

/** How to nest a value deeply: in arrays, in objects, or alternating. */
export type Nesting = 'array' | 'object' | 'mixed';

/** `inner` wrapped `depth` times; built in a loop, so building it never overflows the stack. */
export function nest(depth: number, how: Nesting = 'array', inner: unknown = 1): unknown {
  let v = inner;
  for (let i = 0; i < depth; i++) v = how === 'array' || (how === 'mixed' && i % 2 === 0) ? [v] : { k: v };
  return v;
}

/** The JSON text of `nest(depth, how)`, built without recursion. */
export function nestedJsonText(depth: number, how: Nesting): string {
  const open: string[] = [];
  const close: string[] = [];
  for (let i = 0; i < depth; i++) {
    const arr = how === 'array' || (how === 'mixed' && i % 2 === 0);
    open.push(arr ? '[' : '{"k":');
    close.push(arr ? ']' : '}');
  }
  return `${open.join('')}1${close.reverse().join('')}`;
}

/** A deep nesting to build inside the property (the counterexample shows this, not a 20,000-level value). */
export const deepNesting = fc.record({
  depth: fc.oneof(fc.integer({ min: 50, max: 300 }), fc.integer({ min: 300, max: 6_000 }), fc.integer({ min: 6_000, max: 20_000 })),
  how: fc.constantFrom<Nesting>('array', 'object', 'mixed'),
});

// ─── fixtures and their mutations ─────────────────────────────────────────────────────────────

/** The payloads of a platform's fixtures (`src/connectors/<platform>/fixtures/*.json`). */
export function fixturePayloads(platform: Platform): { readonly file: string; readonly payload: unknown }[] {
  return loadFixtures(new URL(`../../src/connectors/${platform}/fixtures/`, import.meta.url)).map((f) => ({ file: f.file, payload: f.payload }));
}

type Path = readonly (string | number)[];

/** Paths deeper than this are not picked for a mutation (a nested mutation can make thousands). */
const MAX_PATH = 12;

/** Every path in a JSON value down to MAX_PATH keys (the root is `[]`), without recursion. */
function pathsOf(value: unknown): Path[] {
  const out: Path[] = [];
  const todo: [unknown, Path][] = [[value, []]];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [v, path] = next;
    out.push(path);
    if (path.length >= MAX_PATH || v === null || typeof v !== 'object') continue;
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i): [number, unknown] => [i, x]) : Object.entries(v);
    for (const [k, x] of entries.reverse()) todo.push([x, [...path, k]]);
  }
  return out;
}

function getAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const k of path) v = (v as Record<string | number, unknown>)[k];
  return v;
}

/** Sets (or, with `undefined`, deletes) the value at a non-empty path of a container. */
function setAt(root: unknown, path: Path, value: unknown): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown> | unknown[];
  const key = path[path.length - 1] as string | number;
  if (value !== undefined) (parent as Record<string | number, unknown>)[key] = value;
  else if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
  else delete (parent as Record<string | number, unknown>)[key];
}

/** One change to a payload; `at` and `to` pick paths by index (modulo the paths there are). */
export type Mutation =
  | { readonly op: 'drop'; readonly at: number }
  | { readonly op: 'set'; readonly at: number; readonly value: unknown }
  | { readonly op: 'swap'; readonly at: number; readonly to: number }
  | { readonly op: 'copy'; readonly at: number; readonly to: number }
  | { readonly op: 'nest'; readonly at: number; readonly depth: number; readonly how: Nesting }
  | { readonly op: 'nestText'; readonly at: number; readonly depth: number; readonly how: Nesting }
  | { readonly op: 'jsonText'; readonly at: number; readonly value: unknown };

const at = fc.nat();
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('drop' as const), at }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), at, value: jsonValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('swap' as const), at, to: at }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('copy' as const), at, to: at }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('nest' as const), at, depth: fc.integer({ min: 1, max: 8_000 }), how: fc.constantFrom<Nesting>('array', 'object', 'mixed') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('nestText' as const), at, depth: fc.integer({ min: 1, max: 8_000 }), how: fc.constantFrom<Nesting>('array', 'object', 'mixed') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('jsonText' as const), at, value: jsonValue }) },
);

/** True when path `b` is `a` or lies inside it. */
function within(a: Path, b: Path): boolean {
  return a.length <= b.length && a.every((k, i) => b[i] === k);
}

/** Mutations that keep a payload shallow enough to be written as JSON text (no `nest`). */
export const shallowMutation: fc.Arbitrary<Mutation> = mutation.filter((m) => m.op !== 'nest');

/** A deep copy of the arrays and plain objects in a JSON value, made without recursion (it may be nested thousands deep). */
export function cloneTree(value: unknown): unknown {
  const copyOf = (v: unknown): unknown => (Array.isArray(v) ? [...(v as unknown[])] : v !== null && typeof v === 'object' ? { ...v } : v);
  const top = copyOf(value);
  const todo: unknown[] = [top];
  for (let c = todo.pop(); c !== undefined; c = todo.pop()) {
    if (c === null || typeof c !== 'object') continue;
    const box = c as Record<string, unknown>;
    for (const k of Object.keys(box)) {
      box[k] = copyOf(box[k]);
      todo.push(box[k]);
    }
  }
  return top;
}

/**
 * A copy of `payload` with the mutations applied in turn (a mutation of the root replaces it).
 * A copied value is cloned; swapped values move, so no value is ever reachable by two paths.
 */
export function mutate(payload: unknown, mutations: readonly Mutation[]): unknown {
  let root: unknown = cloneTree(payload);
  for (const m of mutations) {
    const paths = pathsOf(root);
    const path = paths[m.at % paths.length] as Path;
    const put = (value: unknown): void => {
      if (path.length === 0) root = value;
      else setAt(root, path, value);
    };
    switch (m.op) {
      case 'drop':
        if (path.length > 0) setAt(root, path, undefined);
        break;
      case 'set':
        put(m.value);
        break;
      case 'swap': {
        const there = paths[m.to % paths.length] as Path;
        // Swapping a value with one inside it would make a cycle: only disjoint paths swap.
        if (within(path, there) || within(there, path)) break;
        const a = getAt(root, path);
        setAt(root, path, getAt(root, there));
        setAt(root, there, a);
        break;
      }
      case 'copy': {
        const from = paths[m.to % paths.length] as Path;
        if (!within(from, path)) put(cloneTree(getAt(root, from))); // copying a value into itself would make a cycle
        break;
      }
      case 'nest':
        put(nest(m.depth, m.how, getAt(root, path)));
        break;
      case 'nestText':
        put(nestedJsonText(m.depth, m.how));
        break;
      case 'jsonText':
        put(JSON.stringify(m.value) ?? '');
        break;
    }
  }
  return root;
}

// ─── XML for 1С-Коннект ───────────────────────────────────────────────────────────────────────

/** Pieces XML is made of, and the ways it breaks: tags cut short, quotes left open, entities, declarations, deep names. */
const XML_TOKENS = [
  '<',
  '>',
  '/',
  '</',
  '/>',
  '=',
  '"',
  "'",
  ' ',
  '\n',
  '\r\n',
  '\t',
  '<Event',
  '<Event>',
  '<Event ',
  '</Event>',
  '<Event/>',
  '<Events>',
  '</Events>',
  ' ID="e1"',
  ' Object="Call"',
  ' Mode="ServicesClients"',
  ' Time="2024-01-01T10:00:00"',
  ' Initiator="Incoming"',
  '<State>',
  '</State>',
  '<CallID>c1</CallID>',
  '<State>Finished</State>',
  '<!--',
  '-->',
  '<![CDATA[',
  ']]>',
  '<?xml version="1.0"?>',
  '<?',
  '?>',
  '<!DOCTYPE x>',
  '<!ENTITY a "b">',
  '&',
  '&amp;',
  '&lt;',
  '&#1046;',
  '&#x0;',
  '&#xD800;',
  '&#99999999;',
  '&nbsp;',
  '&a;',
  '<__proto__>',
  '<constructor>',
  '<toString/>',
  '<hasOwnProperty>',
  '<#text>',
  ' __proto__="x"',
  ' constructor="y"',
  '<a:b xmlns:a="u">',
  '\ud800',
  '\u0000',
  'Ж',
] as const;

/** Strings of XML pieces and random text: mostly broken XML, sometimes well-formed by chance. */
export const xmlish: fc.Arbitrary<string> = fc
  .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...XML_TOKENS) }, { weight: 1, arbitrary: anyString }), { maxLength: 40 })
  .map((parts) => parts.join(''));

/** Escapes text for XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

const C1_OBJECTS = ['Call', 'Message', 'PersonalInfo', 'AgentOnlineStatus', 'RemoteAccessSession', 'FileTransfer', 'Treatment', 'ServiceRequest', 'Command', 'toString', ''];
const C1_MODES = ['ServicesClients', 'Colleagues', 'PersonalContacts', 'GroupChats', 'Softphone', 'constructor', ''];
const C1_STATES = ['Started', 'CallAccepted', 'Finished', 'MP3RecordReady', 'SoundQualityAssessment', 'Created', 'Appointed', 'ServiceQualityAssessment', 'Comments', 'hasOwnProperty', ''];
const C1_CHILDREN = [
  'AcceptTime', 'AdminCompName', 'AdminIP', 'AppointedSpecialistID', 'Assessment', 'AuthorID', 'BillSec', 'Birthday', 'CallFrom', 'CallID', 'CallRecordLink', 'CallResult', 'CallTo',
  'ColleagueID', 'Comments', 'DownloadedFiles', 'Duration', 'EMail', 'EndTime', 'FileName', 'FileSize', 'FileTransferID', 'GroupChatRoomID', 'HostCompName', 'HostIP', 'MemberID',
  'MessageBody', 'MessageID', 'Name', 'PersonalContactID', 'Phone', 'RequestID', 'SecondaryName', 'Sended', 'ServiceID', 'ServiceRequestID', 'SessionID', 'SpecialistID', 'StartTime',
  'State', 'Status', 'Surname', 'TicketID', 'TransferDuration', 'TreatmentDuration', 'TreatmentID', 'UploadedFiles', 'UserID', 'WaitTime', '__proto__',
];
const C1_VALUES = fc.oneof(
  fc.constantFrom('Success', 'RejectedByCaller', 'NobodyToAnswer', 'Online', 'Away', 'Talking', 'Offline', '37', '0', '5', '6', '1,5', '2024-01-01T10:00:00', '2024-03-31T02:30:00', '2024-02-30T10:00:00', '2024-01-01 10:00:00.123456789', '2024-01-01T10:00:00+03:00', 'c-1', 'u-1'),
  trickyString,
  fc.string(),
);

/** A file list child (`<UploadedFiles><File Name=… Size=…/></UploadedFiles>`) with tricky attribute values. */
const C1_FILES = fc
  .tuple(fc.constantFrom('UploadedFiles', 'DownloadedFiles'), fc.array(fc.record({ name: C1_VALUES, size: C1_VALUES, start: C1_VALUES, duration: C1_VALUES }), { maxLength: 3 }))
  .map(([list, files]) => `<${list}>${files.map((f) => `<File Name="${escapeXml(f.name)}" Size="${escapeXml(f.size)}" StartTime="${escapeXml(f.start)}" Duration="${escapeXml(f.duration)}"/>`).join('')}</${list}>`);

/** Well-formed `<Event>` documents from the normalizer's own vocabulary, with tricky values. */
export const connect1cEvent: fc.Arbitrary<string> = fc
  .record({
    id: fc.oneof(fc.constantFrom('e-1', ' ', ''), trickyString),
    time: fc.option(C1_VALUES, { nil: undefined }),
    object: fc.constantFrom(...C1_OBJECTS),
    mode: fc.constantFrom(...C1_MODES),
    initiator: fc.constantFrom('Incoming', 'Self', 'Other'),
    children: fc.array(fc.oneof({ weight: 6, arbitrary: fc.tuple(fc.constantFrom(...C1_CHILDREN), C1_VALUES).map(([n, v]) => `<${n}>${escapeXml(v)}</${n}>`) }, { weight: 1, arbitrary: C1_FILES }, { weight: 2, arbitrary: fc.constantFrom(...C1_STATES).map((s) => `<State>${s}</State>`) }), { maxLength: 12 }),
  })
  .map((e) => {
    const attrs = [`ID="${escapeXml(e.id)}"`, e.time === undefined ? '' : `Time="${escapeXml(e.time)}"`, `Object="${e.object}"`, `Mode="${e.mode}"`, `Initiator="${e.initiator}"`].filter(Boolean).join(' ');
    return `<Event ${attrs}>${e.children.join('')}</Event>`;
  });

/** Ways to break a string of XML: cut, repeat or insert a piece, at positions picked by index. */
export type TextMutation =
  | { readonly op: 'cut'; readonly at: number; readonly length: number }
  | { readonly op: 'repeat'; readonly at: number; readonly length: number }
  | { readonly op: 'insert'; readonly at: number; readonly text: string }
  | { readonly op: 'wrap'; readonly depth: number };

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...XML_TOKENS), anyString) }) },
  fc.record({ op: fc.constant('wrap' as const), depth: fc.integer({ min: 1, max: 3_000 }) }),
);

/** `xml` with the mutations applied in turn. */
export function mutateText(xml: string, mutations: readonly TextMutation[]): string {
  let s = xml;
  for (const m of mutations) {
    if (m.op === 'wrap') {
      s = `${'<w>'.repeat(m.depth)}${s}${'</w>'.repeat(m.depth)}`;
      continue;
    }
    const i = m.at % (s.length + 1);
    if (m.op === 'cut') s = s.slice(0, i) + s.slice(i + m.length);
    else if (m.op === 'repeat') s = s.slice(0, i) + s.slice(i, i + m.length).repeat(2) + s.slice(i + m.length);
    else s = s.slice(0, i) + m.text + s.slice(i);
  }
  return s;
}
