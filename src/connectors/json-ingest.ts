/**
 * The ingest spec shared by the JSON platforms: one payload, a JSON array of payloads, or NDJSON
 * (one payload per line). A bad NDJSON line is reported on its own; the good lines are kept.
 * Each item carries its text as received (`raw`): the body, the line, or the exact slice of the
 * array that was the item — what the quarantine keeps when the item is refused.
 */
import { jsonSyntaxMessage, ValidationError } from '../core/index.js';
import type { ConnectorDefinition, IngestItem, IngestSpec } from './types.js';

const NDJSON = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/jsonlines']);


/** One NDJSON line as an ingest item; `undefined` for a blank line. */
export function parseJsonLine(line: string, lineNo: number): IngestItem | undefined {
  const text = line.trim();
  if (!text) return undefined;
  try {
    return { payload: JSON.parse(text) as unknown, raw: text };
  } catch (err) {
    return { error: `line ${lineNo}: malformed JSON: ${jsonSyntaxMessage(err)}`, raw: text };
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPENERS = new Set([0x5b, 0x7b]);
const CLOSERS = new Set([0x5d, 0x7d]);
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** The index of the quote that closes the JSON string opened at `open`. */
function stringEnd(text: string, open: number): number {
  let close = text.indexOf('"', open + 1);
  for (;;) {
    if (close < 0) return text.length;
    let slashes = 0;
    while (text.charCodeAt(close - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return close;
    close = text.indexOf('"', close + 1);
  }
}

/**
 * The texts of the elements of a top-level JSON array, exactly as they stand in `text` (which
 * `JSON.parse` has accepted), without the whitespace around them. One pass, no recursion.
 */
export function arrayElementTexts(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let end = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (WHITESPACE.has(c)) continue;
    if (depth === 1 && start < 0 && c !== COMMA && !CLOSERS.has(c)) start = i;
    if (c === QUOTE) i = stringEnd(text, i);
    else if (OPENERS.has(c)) depth++;
    else if (CLOSERS.has(c)) depth--;
    if (depth === 0 || (depth === 1 && c === COMMA)) {
      if (start >= 0) out.push(text.slice(start, end + 1));
      start = -1;
      if (depth === 0) break;
      continue;
    }
    end = i;
  }
  return out;
}

export const jsonIngest: IngestSpec = {
  contentTypes: ['application/json', ...NDJSON],
  split(body: string, contentType: string): IngestItem[] {
    if (NDJSON.has(contentType)) {
      const items: IngestItem[] = [];
      const lines = body.split('\n');
      lines.forEach((line, i) => {
        const item = parseJsonLine(line, i + 1);
        if (item) items.push(item);
      });
      return items;
    }
    // Nothing but white space holds no payload (`SB_ERR_INGEST_EMPTY`), as `[]` does: not malformed.
    if (body.trim() === '') return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(body) as unknown;
    } catch (err) {
      throw new ValidationError('SB_ERR_INGEST_MALFORMED', `malformed JSON: ${jsonSyntaxMessage(err)}`);
    }
    if (!Array.isArray(parsed)) return [{ payload: parsed, raw: body }];
    const texts = arrayElementTexts(body);
    return parsed.map((payload: unknown, i) => ({ payload, raw: texts.length === parsed.length ? texts[i] : undefined }));
  },
};

/**
 * A connector whose payloads a relay (the page, the app, its backend) posts as JSON to
 * `POST /ingest/:connectorId`: its settings, its normalizer and `jsonIngest`; nothing pulled.
 */
export function relayedJsonConnector<S extends Record<string, unknown>>(
  platform: ConnectorDefinition<S>['platform'],
  settings: ConnectorDefinition<S>['settings'],
  normalize: ConnectorDefinition<S>['normalize'],
  description: string,
): ConnectorDefinition<S> {
  return { platform, description, settings, normalize, ingest: jsonIngest };
}
