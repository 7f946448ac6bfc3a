/**
 * Fuzz: every normalizer (`connectorFor(platform).normalize`) either returns valid events or
 * refuses the payload with a catalogued ValidationError naming the reason — for arbitrary JSON,
 * any JavaScript value, mutated fixtures and payloads nested thousands of levels deep. Sizes and
 * seeds: test/fuzz/fuzz.ts and docs/testing.md.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Platform } from '../../src/core/index.js';
import {
  FUZZ_TIMEOUT,
  SERVER_CTX,
  anyValue,
  cloneTree,
  connect1cEvent,
  deepNesting,
  fixturePayloads,
  fuzz,
  jsonValue,
  mutate,
  mutateText,
  mutation,
  nest,
  nestedJsonText,
  normalizeChecked,
  textMutation,
  xmlish,
} from './fuzz.js';

const JSON_PLATFORMS: readonly Platform[] = ['widget', 'threads', 'twin', 'greenapi'];

/** The same payload, delivered again as another object, gives the same event ids (the dedupe key). */
function expectDeterministic(platform: Platform, payload: unknown, ids: readonly string[]): void {
  const again = normalizeChecked(platform, cloneTree(payload));
  expect(again?.map((e) => e.id)).toEqual(ids);
}

describe.each(JSON_PLATFORMS)('fuzz: %s normalizer', (platform) => {
  const fixtures = fixturePayloads(platform);

  it(
    'arbitrary JSON: events or a refusal',
    () => {
      fuzz(jsonValue, (v) => void normalizeChecked(platform, v), 1_500);
    },
    FUZZ_TIMEOUT,
  );

  it(
    'any JavaScript value (BigInt, Dates, Maps, null prototypes, holes): events or a refusal',
    () => {
      fuzz(anyValue, (v) => void normalizeChecked(platform, v), 500);
    },
    FUZZ_TIMEOUT,
  );

  it(
    'mutated fixtures (keys dropped, types changed, values swapped, deep nesting inside): events or a refusal, the same ids twice',
    () => {
      expect(fixtures.length).toBeGreaterThan(0);
      const arb = fc.record({ fixture: fc.constantFrom(...fixtures), mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }) });
      fuzz(
        arb,
        ({ fixture, mutations }) => {
          const payload = mutate(fixture.payload, mutations);
          const events = normalizeChecked(platform, payload);
          if (events) expectDeterministic(platform, payload, events.map((e) => e.id));
        },
        1_500,
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'payloads nested up to 20,000 levels, whole or in a field: a refusal naming the limit, never a stack overflow',
    () => {
      const arb = fc.record({ nesting: deepNesting, fixture: fc.constantFrom(...fixtures), where: fc.nat() });
      fuzz(
        arb,
        ({ nesting, fixture, where }) => {
          normalizeChecked(platform, nest(nesting.depth, nesting.how));
          normalizeChecked(platform, mutate(fixture.payload, [{ op: 'nest', at: where, depth: nesting.depth, how: nesting.how }]));
        },
        150,
      );
    },
    FUZZ_TIMEOUT,
  );
});

describe('fuzz: threads JSON text fields', () => {
  it(
    'SURVEY, SCHEDULE and SCENARIO `text`: any JSON text, malformed text, or JSON nested up to 20,000 levels; parsed alone or within the server limits',
    () => {
      const text = fc.oneof(
        jsonValue.map((v) => JSON.stringify(v) ?? ''),
        fc.string(),
        deepNesting.map(({ depth, how }) => nestedJsonText(depth, how)),
        deepNesting.map(({ depth }) => '['.repeat(depth)),
      );
      const arb = fc.record({ type: fc.constantFrom('SURVEY', 'SCHEDULE', 'SCENARIO'), text, threadId: fc.oneof(fc.nat(), fc.string()) });
      fuzz(
        arb,
        ({ type, text: t, threadId }) => {
          const push = { origin: 'threads', type, threadId, uuid: 'u-1', text: t };
          normalizeChecked('threads', push);
          normalizeChecked('threads', push, SERVER_CTX);
        },
        600,
      );
    },
    FUZZ_TIMEOUT,
  );
});

describe('fuzz: connect1c normalizer', () => {
  const fixtures = fixturePayloads('connect1c').map((f) => ({ file: f.file, xml: String(f.payload) }));

  it(
    'arbitrary JSON and any value (not a string): a refusal',
    () => {
      fuzz(fc.oneof(jsonValue, anyValue), (v) => void normalizeChecked('connect1c', v), 1_000);
    },
    FUZZ_TIMEOUT,
  );

  it(
    'XML-ish strings (broken tags, open quotes, entities, declarations, prototype names): events or a refusal',
    () => {
      fuzz(xmlish, (x) => void normalizeChecked('connect1c', x), 1_500);
    },
    FUZZ_TIMEOUT,
  );

  it(
    'well-formed Events of every Object, Mode and State with tricky values: events or a refusal, the same ids twice',
    () => {
      fuzz(
        connect1cEvent,
        (x) => {
          const events = normalizeChecked('connect1c', x);
          if (events) expectDeterministic('connect1c', x, events.map((e) => e.id));
        },
        1_500,
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'mutated fixtures (cut, repeated and inserted pieces, wrapped up to 3,000 deep): events or a refusal',
    () => {
      const arb = fc.record({ fixture: fc.constantFrom(...fixtures), mutations: fc.array(textMutation, { minLength: 1, maxLength: 4 }) });
      fuzz(arb, ({ fixture, mutations }) => void normalizeChecked('connect1c', mutateText(fixture.xml, mutations)), 1_500);
    },
    FUZZ_TIMEOUT,
  );
});
