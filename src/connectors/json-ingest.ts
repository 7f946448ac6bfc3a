/**
 * The ingest spec shared by the JSON platforms: one payload, a JSON array of payloads, or NDJSON
 * (one payload per line). A bad NDJSON line is reported on its own; the good lines are kept.
 */
import { ValidationError } from '../core/index.js';
import type { IngestItem, IngestSpec } from './types.js';

const NDJSON = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/jsonlines']);

function jsonErrorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One NDJSON line as an ingest item; `undefined` for a blank line. */
export function parseJsonLine(line: string, lineNo: number): IngestItem | undefined {
  const text = line.trim();
  if (!text) return undefined;
  try {
    return { payload: JSON.parse(text) as unknown, raw: text };
  } catch (err) {
    return { error: `line ${lineNo}: malformed JSON: ${jsonErrorMessage(err)}`, raw: text };
  }
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
      throw new ValidationError('SB_ERR_INGEST_MALFORMED', `malformed JSON: ${jsonErrorMessage(err)}`);
    }
    return Array.isArray(parsed) ? parsed.map((payload: unknown) => ({ payload })) : [{ payload: parsed }];
  },
};
