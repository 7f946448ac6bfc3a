/**
 * Fuzz: the ingest body splitter of every push connector (`definition.ingest.split(body,
 * contentType)`), for each content type it takes, and the normalizer on every item it returns —
 * what `POST /ingest/:connectorId` does with a body before the commit. Sizes and seeds:
 * test/fuzz/fuzz.ts and docs/testing.md.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONNECTORS } from '../../src/connectors/registry.js';
import type { IngestItem } from '../../src/connectors/types.js';
import { MAX_PAYLOAD_DEPTH, nestedDeeperThan } from '../../src/core/index.js';
import { FUZZ_TIMEOUT, MALFORMED, connect1cEvent, deepNesting, fixturePayloads, fuzz, jsonValue, mutate, nestedJsonText, normalizeChecked, refusedOr, shallowMutation, trickyString, xmlish } from './fuzz.js';

const PUSH = CONNECTORS.filter((c) => c.ingest !== undefined);

/** Bodies for a JSON connector: JSON texts (of fixtures, mutated or not, and of anything), arrays, NDJSON with bad lines, deep nesting, noise. */
function jsonBodies(fixtures: readonly unknown[]): fc.Arbitrary<string> {
  const payload = fc.oneof(
    fc.constantFrom(...fixtures),
    fc.record({ p: fc.constantFrom(...fixtures), m: fc.array(shallowMutation, { minLength: 1, maxLength: 3 }) }).map(({ p, m }) => mutate(p, m)),
    jsonValue,
  );
  // A line of NDJSON: a payload, or text that is not JSON.
  const line = fc.oneof({ weight: 3, arbitrary: payload.map((p) => JSON.stringify(p) ?? '') }, { weight: 1, arbitrary: fc.oneof(fc.string(), trickyString) });
  return fc.oneof(
    payload.map((p) => JSON.stringify(p) ?? ''),
    fc.record({ ps: fc.array(payload, { maxLength: 5 }), space: fc.constantFrom(0, 2, '\t', ' \r\n') }).map(({ ps, space }) => JSON.stringify(ps, null, space)),
    fc.record({ lines: fc.array(line, { maxLength: 6 }), eol: fc.constantFrom('\n', '\r\n', '\n\n') }).map(({ lines, eol }) => lines.join(eol)),
    deepNesting.map(({ depth, how }) => nestedJsonText(depth, how)),
    deepNesting.map(({ depth }) => '['.repeat(depth)),
    fc.string({ unit: 'binary' }),
    trickyString,
  );
}

/** Bodies for the 1С-Коннект relay: events alone, several, wrapped, with noise between them, or XML-ish noise. */
function xmlBodies(fixtures: readonly unknown[]): fc.Arbitrary<string> {
  const event = fc.oneof(fc.constantFrom(...fixtures.map(String)), connect1cEvent, xmlish);
  return fc.oneof(
    xmlish,
    fc.record({ events: fc.array(event, { maxLength: 6 }), wrap: fc.boolean(), sep: fc.constantFrom('', '\n', '\r\n', 'x', '<!-- c -->') }).map(({ events, wrap, sep }) => {
      const inner = events.join(sep);
      return wrap ? `<?xml version="1.0" encoding="utf-8"?>\n<Events>${inner}</Events>` : inner;
    }),
    fc.string({ unit: 'binary' }),
  );
}

/**
 * The split keeps its contract: items, each a payload or a reason with the text it could not
 * read; an item's `raw` is its text as received, so it reads back as the payload.
 */
function checkItems(items: readonly IngestItem[], json: boolean): void {
  expect(Array.isArray(items)).toBe(true);
  for (const item of items) {
    if ('error' in item) {
      expect(typeof item.error === 'string' && item.error !== '').toBe(true);
      expect(typeof item.raw).toBe('string');
    } else if (item.raw !== undefined) {
      expect(typeof item.raw).toBe('string');
      // Compared only within the depth a comparison (recursive) can take.
      if (!nestedDeeperThan(item.payload, MAX_PAYLOAD_DEPTH)) expect(json ? (JSON.parse(item.raw) as unknown) : item.raw).toEqual(item.payload);
    }
  }
}

describe.each(PUSH.map((c) => [c.platform, c] as const))('fuzz: %s ingest split', (platform, connector) => {
  const spec = connector.ingest;
  const fixtures = fixturePayloads(platform).map((f) => f.payload);
  const bodies = platform === 'connect1c' ? xmlBodies(fixtures) : jsonBodies(fixtures);

  it(
    'every content type it takes: items or SB_ERR_INGEST_MALFORMED naming the problem; each item normalizes to events or a refusal',
    () => {
      if (!spec) throw new Error(`${platform} takes no pushed payloads`);
      fuzz(
        fc.record({ body: bodies, contentType: fc.constantFrom(...spec.contentTypes) }),
        ({ body, contentType }) => {
          const items = refusedOr(() => spec.split(body, contentType), MALFORMED);
          if (!items) return;
          checkItems(items, platform !== 'connect1c');
          for (const item of items) if ('payload' in item) normalizeChecked(platform, item.payload);
        },
        800,
      );
    },
    FUZZ_TIMEOUT,
  );
});
