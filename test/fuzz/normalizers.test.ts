/**
 * Fuzz: every normalizer (`connectorFor(platform).normalize`) either returns valid events or
 * refuses the payload with a catalogued ValidationError naming the reason — for arbitrary JSON,
 * any JavaScript value, mutated fixtures and payloads nested thousands of levels deep. The
 * properties are the normalizer conformance suite's (test/normalizer-conformance.ts), run here at
 * CI size and, nightly, at FUZZ_RUNS; sizes and seeds: test/fuzz/fuzz.ts and docs/testing.md.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectorFor, registeredPlatforms } from '../../src/connectors/registry.js';
import { normalizerFuzz } from '../normalizer-conformance.js';
import { CTX, FUZZ_TIMEOUT, SERVER_CTX, connect1cEvent, deepNesting, fuzz, jsonValue, nestedJsonText, normalizeChecked, xmlish } from './fuzz.js';

describe.each(registeredPlatforms())('fuzz: %s normalizer', (platform) => {
  const normalize = connectorFor(platform)?.normalize;
  if (!normalize) throw new Error(`no connector for ${platform}`);
  normalizerFuzz({ platform, normalize, fixtures: new URL(`../../src/connectors/${platform}/fixtures/`, import.meta.url), context: CTX }, { json: 1_500, any: 500, mutated: 1_500, deep: 150 });
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

describe('fuzz: connect1c XML', () => {
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
          if (events) expect(normalizeChecked('connect1c', `${x}`)?.map((e) => e.id)).toEqual(events.map((e) => e.id));
        },
        1_500,
      );
    },
    FUZZ_TIMEOUT,
  );
});
