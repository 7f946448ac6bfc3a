/**
 * docs/asyncapi.yaml is generated from the event catalogue (`npm run asyncapi`) and kept in step:
 * the committed file equals what the code gives, every `$ref` resolves inside it, and every event
 * type is a message of the stream, the webhooks (with the Standard Webhooks headers) and NATS.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EVENT_TYPES, dataJsonSchema, dataSchemaUri } from '../src/core/index.js';
import { asyncApiDocument } from '../src/server/asyncapi.js';

const root = new URL('..', import.meta.url);
const version = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string }).version;
const committed = parse(readFileSync(new URL('docs/asyncapi.yaml', root), 'utf8')) as Record<string, unknown>;

/** The value at a local `$ref` (`#/a/b`), or undefined. */
function resolve(doc: unknown, ref: string): unknown {
  let at: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return at;
}

function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const x of node) refsIn(x, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe('docs/asyncapi.yaml', () => {
  it('is what `npm run asyncapi` writes from the catalogue (run it after changing an event type)', () => {
    expect(committed).toEqual(asyncApiDocument(version));
  });

  it('resolves every $ref inside the document', () => {
    const refs = refsIn(committed);
    expect(refs.length).toBeGreaterThan(EVENT_TYPES.length * 3);
    const broken = refs.filter((r) => !r.startsWith('#/') || resolve(committed, r) === undefined);
    expect(broken).toEqual([]);
  });

  it('carries every event type on the stream, the webhooks and NATS, with its data schema; webhooks with the Standard Webhooks headers', () => {
    const channels = committed.channels as Record<string, { messages: Record<string, unknown> }>;
    for (const name of ['stream', 'webhooks', 'nats']) expect(Object.keys(channels[name]?.messages ?? {}).sort(), name).toEqual([...EVENT_TYPES].sort());
    for (const type of EVENT_TYPES) {
      const payload = resolve(committed, `#/components/schemas/${type}`) as { allOf: [unknown, { properties: { type: unknown; dataschema: unknown; data: unknown } }] };
      const { $schema: _s, ...data } = dataJsonSchema(type);
      expect(payload.allOf[1].properties).toEqual({ type: { const: type }, dataschema: { const: dataSchemaUri(type) }, data });
      const hook = channels.webhooks?.messages[type] as { headers: { $ref: string } };
      const headers = resolve(committed, hook.headers.$ref) as { required: string[] };
      expect(headers.required).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    }
    const ops = committed.operations as Record<string, { action: string; channel: { $ref: string } }>;
    expect(Object.values(ops).map((o) => [o.action, o.channel.$ref])).toEqual([
      ['receive', '#/channels/stream'],
      ['send', '#/channels/webhooks'],
      ['send', '#/channels/nats'],
    ]);
  });
});
