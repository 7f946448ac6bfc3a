/**
 * Keeps docs/events.md in step with the catalogue and the connectors: one section per event type
 * naming every `data` field, and a mapping row for every native code the fixtures produce.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, dataJsonSchema, isRecord, type EventType } from '../src/core/index.js';

const doc = readFileSync(new URL('../docs/events.md', import.meta.url), 'utf8');
const connectorsDir = new URL('../src/connectors/', import.meta.url);

const TYPE_HEADING = /^### `([^`]+)`[ \t]*$/gm;

/** The text of a section: from its heading to the next `##` or `###` heading (or the end). */
function sectionAfter(index: number): string {
  const rest = doc.slice(index);
  const firstLineEnd = rest.indexOf('\n');
  const body = firstLineEnd === -1 ? '' : rest.slice(firstLineEnd + 1);
  const next = /^#{2,3} /m.exec(body);
  return next ? body.slice(0, next.index) : body;
}

function typeSection(type: EventType): string {
  const heading = [...doc.matchAll(TYPE_HEADING)].find((m) => m[1] === type);
  expect(heading, `no heading for ${type}`).toBeDefined();
  return heading ? sectionAfter(heading.index) : '';
}

/** The "## Mapping tables" section, up to the next `##` heading (its `###` subsections included). */
function mappingSection(): string {
  const start = doc.search(/^## Mapping tables[ \t]*$/m);
  if (start === -1) return '';
  const section = doc.slice(start);
  const next = /^## /m.exec(section.slice(3));
  return next ? section.slice(0, next.index + 3) : section;
}

interface FixtureCode {
  readonly file: string;
  readonly nativetype: string;
}

/** Every `nativetype` of the expected events in src/connectors/<platform>/fixtures/*.json. */
function fixtureNativeTypes(): FixtureCode[] {
  const codes: FixtureCode[] = [];
  for (const entry of readdirSync(connectorsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const fixturesDir = new URL(`${entry.name}/fixtures/`, connectorsDir);
    let files: string[];
    try {
      files = readdirSync(fixturesDir).filter((f) => f.endsWith('.json'));
    } catch {
      continue;
    }
    for (const file of files) {
      const parsed: unknown = JSON.parse(readFileSync(new URL(file, fixturesDir), 'utf8'));
      const expected = isRecord(parsed) ? parsed.expected : undefined;
      if (!Array.isArray(expected)) continue;
      for (const event of expected) {
        if (isRecord(event) && typeof event.nativetype === 'string') codes.push({ file: `${entry.name}/fixtures/${file}`, nativetype: event.nativetype });
      }
    }
  }
  return codes;
}

describe('docs/events.md', () => {
  it('has exactly one "### `<type>`" heading per catalogue type, and none for other types', () => {
    const headings = [...doc.matchAll(TYPE_HEADING)].map((m) => m[1] ?? '');
    for (const type of EVENT_TYPES) {
      expect(headings.filter((h) => h === type), `headings for ${type}`).toHaveLength(1);
    }
    const known: ReadonlySet<string> = new Set(EVENT_TYPES);
    expect(headings.filter((h) => !known.has(h))).toEqual([]);
  });

  it('lists the type sections in catalogue order', () => {
    const known: ReadonlySet<string> = new Set(EVENT_TYPES);
    const headings = [...doc.matchAll(TYPE_HEADING)].map((m) => m[1] ?? '').filter((h) => known.has(h));
    expect(headings).toEqual(EVENT_TYPES);
  });

  it.each(EVENT_TYPES)('names every data field of %s in its section', (type) => {
    const section = typeSection(type);
    const properties = dataJsonSchema(type).properties;
    expect(isRecord(properties), `JSON Schema of ${type} has properties`).toBe(true);
    const names = isRecord(properties) ? Object.keys(properties) : [];
    expect(names).toContain('native');
    const missing = names.filter((name) => !section.includes(`\`${name}\``));
    expect(missing, `fields of ${type} missing from its section`).toEqual([]);
  });

  it('has a mapping row for every native code the connector fixtures produce', () => {
    const mapping = mappingSection();
    expect(mapping).not.toBe('');
    const codes = fixtureNativeTypes();
    expect(codes.length).toBeGreaterThan(0);
    const missing = [...new Set(codes.filter((c) => !mapping.includes(`\`${c.nativetype}\``)).map((c) => `${c.nativetype} (${c.file})`))];
    expect(missing, 'native codes without a documented mapping').toEqual([]);
  });
});
