/**
 * The normalizer conformance suite: every connector's `normalize.test.ts` runs it once, with the
 * same call, as every Store runs `test/store-conformance.ts`:
 *
 *   normalizerConformance({ platform, normalize, module, fixtures, context, codes, payload });
 *
 * It holds every normalizer to DESIGN §2: it is pure (no Node built-in, no package beyond the
 * core's and the XML reader's, nothing of the server or of another connector is reachable from
 * it, and its own files read no clock and no randomness); its ids are deterministic; every
 * fixture gives its expected events; every native code of the seed's tables maps to its type; and
 * whatever it is given, it returns valid events or refuses with an ingest `ValidationError`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { connectorFor } from '../src/connectors/registry.js';
import {
  hashCanonical,
  sourceOf,
  validateEvent,
  ValidationError,
  type ErrorCode,
  type EventType,
  type NormalizeContext,
  type Normalizer,
  type Platform,
  type SwitchboardEvent,
} from '../src/core/index.js';
import { FUZZ_TIMEOUT, anyValue, cloneTree, deepNesting, fuzz, jsonValue, mutate, mutateText, mutation, nest, normalizeWith, textMutation } from './fuzz/fuzz.js';
import { clone, comparable, loadFixtures } from './helpers/fixtures.js';

export interface NormalizerSpec {
  /** The platform; its connector in `src/connectors/registry.ts` must use `normalize`. */
  readonly platform: Platform;
  readonly normalize: Normalizer;
  /** The normalizer's source, `new URL('./normalize.ts', import.meta.url)`: where the purity check starts. */
  readonly module: URL;
  /** The fixtures folder, `new URL('./fixtures/', import.meta.url)` (test/helpers/fixtures.ts reads it). */
  readonly fixtures: URL;
  /** The context fixtures, codes and fuzz cases are normalized in; its `connectorId` names the events' source. */
  readonly context: NormalizeContext;
  /**
   * Every native code (the events' `nativetype`) of the seed's tables, and any other the mapping
   * covers, with the type it becomes: several where its payloads give several, `native.unmapped`
   * for a code that is kept whole. A fixture must show each (see `noFixture`).
   */
  readonly codes: Readonly<Record<string, EventType | readonly EventType[]>>;
  /** The least payload of a code of `codes`. */
  readonly payload: (code: string) => unknown;
  /** Codes no fixture shows yet: their `payload` is their only example (the suite fails once a fixture shows one). */
  readonly noFixture?: readonly string[];
  /**
   * The codes the connector says it maps, where it exports such a list (e.g. `THREADS_MAPPED_TYPES`);
   * a name also stands for its codes `<name>/…` (1С-Коннект's objects).
   */
  readonly advertised?: readonly string[];
  /** What every refusal's message matches, where the normalizer names itself in all of them. */
  readonly refusal?: RegExp;
}

// ─── purity: the static import graph ─────────────────────────────────────────────────────────

/** Packages a normalizer may reach: the core's (zod, canonicalize) and 1С-Коннект's XML reader. */
export const NORMALIZER_PACKAGES: readonly string[] = ['zod', 'canonicalize', 'fast-xml-parser'];

/** What a connector's own files must not use: the clock, randomness, the process, CommonJS or dynamic loading. */
const IMPURE = /\bDate\.now\b|\bnew Date\(|\bMath\.random\b|\bprocess\.|\brequire\(|\bimport\(/;

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

export interface ImportGraph {
  /** Every source file reachable from the entry, the entry included. */
  readonly files: readonly string[];
  /** Every bare specifier imported on the way, with the files importing it. */
  readonly packages: ReadonlyMap<string, readonly string[]>;
  /** Relative imports that lead to no file. */
  readonly unresolved: readonly string[];
}

/** `./x.js` from `from`: `x.ts`, `x` itself, or `x/index.ts`. */
function resolveImport(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  return [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f) && statSync(f).isFile());
}

/** The static import graph of a TypeScript module: every `import`, `export … from` and `import()`, type-only ones too. */
export function importGraph(entry: URL): ImportGraph {
  const files = new Set<string>();
  const packages = new Map<string, string[]>();
  const unresolved: string[] = [];
  const todo = [fileURLToPath(entry)];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!spec.startsWith('.')) packages.set(spec, [...(packages.get(spec) ?? []), file]);
      else {
        const target = resolveImport(file, spec);
        if (target) todo.push(target);
        else unresolved.push(`${file} → ${spec}`);
      }
    }
  }
  return { files: [...files], packages, unresolved };
}

/** `zod/mini` → `zod`, `@scope/pkg/x` → `@scope/pkg`. */
function packageName(spec: string): string {
  const parts = spec.split('/');
  return (spec.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/** Why the graph is not that of a pure normalizer of `platform`: one line per breach, none when it is. */
export function purityProblems(graph: ImportGraph, platform: Platform): string[] {
  const problems = graph.unresolved.map((u) => `unresolved import ${u}`);
  for (const [spec, by] of graph.packages) {
    const where = by.map((f) => relative(SRC, f)).join(', ');
    if (spec.startsWith('node:') || builtinModules.includes(spec) || builtinModules.includes(packageName(spec))) problems.push(`Node built-in ${spec} (imported by ${where})`);
    else if (!NORMALIZER_PACKAGES.includes(packageName(spec))) problems.push(`package ${spec} beyond ${NORMALIZER_PACKAGES.join(', ')} (imported by ${where})`);
  }
  for (const file of graph.files) {
    const path = relative(SRC, file).split(sep).join('/');
    const connector = /^connectors\/([^/]+)\//.exec(path)?.[1];
    if (path.startsWith('../')) problems.push(`a module outside src/: ${path}`);
    if (path.startsWith('server/')) problems.push(`server module src/${path}`);
    if (connector !== undefined && connector !== platform) problems.push(`another connector's module src/${path}`);
    const impure = connector === platform ? IMPURE.exec(readFileSync(file, 'utf8')) : null;
    if (impure) problems.push(`src/${path} uses ${impure[0]}`);
  }
  return problems;
}

// ─── helpers for the platform tests ───────────────────────────────────────────────────────────

/** `one`: the single event a payload gives; `invalid`: the ValidationError it is refused with, of `code`. */
export function normalizerProbes(normalize: Normalizer, ctx: NormalizeContext) {
  return {
    one(payload: unknown, context: NormalizeContext = ctx): SwitchboardEvent {
      const events = normalize(payload, context);
      expect(events).toHaveLength(1);
      return events[0] as SwitchboardEvent;
    },
    invalid(payload: unknown, code: ErrorCode = 'SB_ERR_INGEST_INVALID_PAYLOAD', context: NormalizeContext = ctx): ValidationError {
      let thrown: unknown;
      try {
        normalize(payload, context);
      } catch (err) {
        thrown = err;
      }
      if (thrown === undefined) throw new Error(`expected a ValidationError for ${JSON.stringify(payload)}`);
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as ValidationError).code).toBe(code);
      return thrown as ValidationError;
    },
  };
}

// ─── fuzz ─────────────────────────────────────────────────────────────────────────────────────

export type FuzzTarget = Pick<NormalizerSpec, 'platform' | 'normalize' | 'fixtures' | 'context' | 'refusal'>;

/** Cases per property: arbitrary JSON, any JavaScript value, mutated fixtures, deep nesting. */
export interface FuzzSizes {
  readonly json: number;
  readonly any: number;
  readonly mutated: number;
  readonly deep: number;
}

/** The conformance suite's sizes: quick; `test/fuzz/normalizers.test.ts` runs the same properties at CI size and nightly. */
export const CONFORMANCE_FUZZ: FuzzSizes = { json: 300, any: 200, mutated: 300, deep: 30 };

/**
 * Registers the fuzz properties of a normalizer: whatever it is given (arbitrary JSON, any
 * value, its fixtures mutated, payloads nested up to 20,000 levels) it returns valid events of its
 * platform or refuses with an ingest ValidationError (test/fuzz/fuzz.ts `normalizeWith`), and a
 * payload it accepts, delivered again as a copy, gives the same ids.
 */
export function normalizerFuzz(target: FuzzTarget, sizes: FuzzSizes): void {
  const { platform, normalize, context, refusal } = target;
  const payloads = loadFixtures(target.fixtures).map((f) => f.payload);
  // 1С-Коннект's fixtures are XML text: they are mutated as text, the others as JSON trees.
  const texts = payloads.filter((p): p is string => typeof p === 'string');
  const trees = payloads.filter((p) => typeof p !== 'string');
  const check = (payload: unknown) => normalizeWith(normalize, platform, payload, context, refusal);

  it(
    'arbitrary JSON: events or a refusal',
    () => {
      fuzz(jsonValue, (v) => void check(v), sizes.json);
    },
    FUZZ_TIMEOUT,
  );

  it(
    'any JavaScript value (BigInt, Dates, Maps, null prototypes, holes): events or a refusal',
    () => {
      fuzz(anyValue, (v) => void check(v), sizes.any);
    },
    FUZZ_TIMEOUT,
  );

  it(
    'mutated fixtures (keys dropped, types changed, values swapped, text cut or repeated): events or a refusal, both seen, the same ids twice',
    () => {
      expect(payloads.length).toBeGreaterThan(0);
      let accepted = 0;
      let refused = 0;
      const once = (payload: unknown): void => {
        const events = check(payload);
        if (events === undefined) {
          refused++;
          return;
        }
        accepted++;
        expect(check(cloneTree(payload))?.map((e) => e.id)).toEqual(events.map((e) => e.id));
      };
      const many = { minLength: 1, maxLength: 4 };
      if (trees.length > 0) fuzz(fc.record({ fixture: fc.constantFrom(...trees), mutations: fc.array(mutation, many) }), ({ fixture, mutations }) => once(mutate(fixture, mutations)), sizes.mutated);
      if (texts.length > 0) fuzz(fc.record({ fixture: fc.constantFrom(...texts), mutations: fc.array(textMutation, many) }), ({ fixture, mutations }) => once(mutateText(fixture, mutations)), sizes.mutated);
      expect(accepted, 'no mutated fixture was accepted').toBeGreaterThan(0);
      expect(refused, 'no mutated fixture was refused').toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT,
  );

  it(
    'payloads nested up to 20,000 levels, whole or inside a fixture: a refusal or events, never a stack overflow',
    () => {
      fuzz(
        fc.record({ nesting: deepNesting, fixture: fc.constantFrom(...payloads), where: fc.nat() }),
        ({ nesting: { depth, how }, fixture, where }) => {
          check(nest(depth, how));
          check(typeof fixture === 'string' ? mutateText(fixture, [{ op: 'wrap', depth }]) : mutate(fixture, [{ op: 'nest', at: where, depth, how }]));
        },
        sizes.deep,
      );
    },
    FUZZ_TIMEOUT,
  );
}

// ─── the suite ────────────────────────────────────────────────────────────────────────────────

const MAPPED = (e: SwitchboardEvent): boolean => e.type !== 'native.unmapped';

export function normalizerConformance(spec: NormalizerSpec): void {
  const { platform, normalize, context: ctx } = spec;
  const fixtures = loadFixtures(spec.fixtures);
  const noFixture = new Set(spec.noFixture ?? []);
  const ids = (payload: unknown, context: NormalizeContext = ctx) => normalize(payload, context).map((e) => e.id);

  describe(`normalizer conformance: ${platform}`, () => {
    describe('purity', () => {
      it(`is the normalizer registered for ${platform}`, () => {
        expect(connectorFor(platform)?.normalize).toBe(normalize);
      });

      it(`reaches no Node built-in, no package beyond ${NORMALIZER_PACKAGES.join(', ')}, nothing of src/server/ or another connector; its own files read no clock or randomness`, () => {
        const graph = importGraph(spec.module);
        expect(graph.files.length).toBeGreaterThan(1);
        expect(purityProblems(graph, platform)).toEqual([]);
      });

      it('(self-check) the purity check finds a Node built-in, a server module and another connector', () => {
        const server = purityProblems(importGraph(new URL('../src/server/native-hash.ts', import.meta.url)), platform);
        expect(server).toContainEqual(expect.stringMatching(/^Node built-in node:crypto \(imported by server\/native-hash\.ts\)$/));
        expect(server).toContainEqual('server module src/server/native-hash.ts');
        const registry = purityProblems(importGraph(new URL('../src/connectors/registry.ts', import.meta.url)), platform);
        expect(registry.filter((p) => p.startsWith("another connector's module")).length).toBeGreaterThan(0);
      });
    });

    describe('fixtures', () => {
      it('are there', () => {
        expect(fixtures.length).toBeGreaterThan(0);
      });

      for (const f of fixtures) {
        it(`${f.file}: ${f.description}`, () => {
          const before = clone(f.payload);
          const events = normalize(f.payload, ctx);
          expect(events.map(comparable)).toEqual(f.expected);
          for (const e of events) {
            validateEvent(e);
            expect(e.platform).toBe(platform);
            expect(e.source).toBe(sourceOf(platform, ctx.connectorId));
            expect(e.data.native).toEqual(f.payload);
          }
          expect(f.payload, 'the normalizer changed its input').toEqual(before);
        });
      }
    });

    describe('identity', () => {
      const later = new Date(Date.parse(ctx.receivedAt) + 86_400_000).toISOString();

      it('gives a redelivery (a deep copy, received a day later) the same ids', () => {
        for (const f of fixtures) expect(ids(clone(f.payload), { ...ctx, receivedAt: later }), f.file).toEqual(ids(f.payload));
      });

      it('gives every event of every fixture its own id, unless two fixtures hold the same payload', () => {
        const seen = new Map<string, { file: string; hash: string }>();
        for (const f of fixtures) {
          const hash = hashCanonical(f.payload);
          const own = ids(f.payload);
          expect(new Set(own).size, f.file).toBe(own.length);
          for (const id of own) {
            const other = seen.get(id);
            if (other) expect(other.hash, `${f.file} and ${other.file} share the id ${id}`).toBe(hash);
            seen.set(id, { file: f.file, hash });
          }
        }
      });

      it('derives the ids from the connector: another connector id gives other ids', () => {
        for (const f of fixtures) {
          const mine = new Set(ids(f.payload));
          expect(ids(f.payload, { ...ctx, connectorId: `${ctx.connectorId}-other` }).filter((id) => mine.has(id)), f.file).toEqual([]);
        }
      });
    });

    describe('native codes', () => {
      const byCode = new Map<string, SwitchboardEvent[]>();
      for (const f of fixtures) for (const e of normalize(f.payload, ctx)) byCode.set(e.nativetype, [...(byCode.get(e.nativetype) ?? []), e]);
      const typesOf = (code: string): readonly EventType[] => {
        const t = spec.codes[code] ?? [];
        return typeof t === 'string' ? [t] : t;
      };

      for (const code of Object.keys(spec.codes)) {
        const types = typesOf(code);
        it(`${code} → ${types.join(' | ')}`, () => {
          const built = normalize(spec.payload(code), ctx);
          expect(built.length, 'its payload gives no event').toBeGreaterThan(0);
          for (const e of built) {
            validateEvent(e);
            expect(e.nativetype).toBe(code);
            expect(types).toContain(e.type);
          }
          const shown = byCode.get(code) ?? [];
          if (noFixture.has(code)) expect(shown.length, `a fixture shows ${code}: take it off noFixture`).toBe(0);
          else {
            expect(shown.some((e) => types.includes(e.type)), `no fixture shows ${code} as ${types.join(' | ')}`).toBe(true);
            expect(shown.filter(MAPPED).map((e) => e.type).filter((t) => !types.includes(t)), `a fixture maps ${code} to another type`).toEqual([]);
          }
          for (const t of types) expect([...built, ...shown].some((e) => e.type === t), `nothing shows ${code} as ${t}`).toBe(true);
        });
      }

      it('lists every code the fixtures map', () => {
        const mapped = [...byCode].filter(([, events]) => events.some(MAPPED)).map(([code]) => code);
        expect(mapped.filter((c) => !Object.hasOwn(spec.codes, c))).toEqual([]);
      });

      const advertised = spec.advertised;
      if (advertised) {
        it('maps every code it advertises, and advertises every code it maps', () => {
          const built = Object.keys(spec.codes).flatMap((c) => normalize(spec.payload(c), ctx));
          const mapped = new Set([...built, ...[...byCode.values()].flat()].filter(MAPPED).map((e) => e.nativetype));
          const names = (a: string, code: string) => code === a || code.startsWith(`${a}/`);
          expect(advertised.filter((a) => ![...mapped].some((c) => names(a, c)))).toEqual([]);
          expect([...mapped].filter((c) => !advertised.some((a) => names(a, c)))).toEqual([]);
        });
      }
    });

    describe('fuzz', () => {
      normalizerFuzz(spec, CONFORMANCE_FUZZ);
    });
  });
}
