/**
 * Fuzz: the 1С-Коннект pipe framing (random bytes and streams of good, bad and cut frames, split
 * into random chunks), the XML reader and the relay's `<Event>` finder. Sizes and seeds:
 * test/fuzz/fuzz.ts and docs/testing.md.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, HEADER_BYTES, MAX_BODY_BYTES, encodeFrame, type DecodedFrame } from '../../src/connectors/connect1c/framing.js';
import { MAX_XML_DEPTH, parseXml, splitEvents, type XmlElement } from '../../src/connectors/connect1c/xml.js';
import { FUZZ_TIMEOUT, MALFORMED, connect1cEvent, fixturePayloads, fuzz, mutateText, normalizeChecked, refusedOr, textMutation, xmlish } from './fuzz.js';

const fixtures = fixturePayloads('connect1c').map((f) => String(f.payload));

/** XML of any kind, mostly broken: pieces, generated Events, mutated fixtures. */
const anyXml = fc.oneof(
  xmlish,
  connect1cEvent,
  fc.record({ xml: fc.constantFrom(...fixtures), mutations: fc.array(textMutation, { minLength: 1, maxLength: 3 }) }).map(({ xml, mutations }) => mutateText(xml, mutations)),
);

// ─── framing ──────────────────────────────────────────────────────────────────────────────────

/** A frame for `xml`, padded with spaces to the 50-byte minimum and cut to the 65535-byte maximum. */
function frameOf(xml: string): Buffer {
  const padded = xml.length < 25 ? xml.padEnd(25, ' ') : xml.slice(0, MAX_BODY_BYTES >> 1);
  return encodeFrame(padded);
}

/** Pieces of a pipe stream: good frames, cut frames, headers that cannot be right, lone surrogates, noise. */
const streamPiece: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: anyXml.map(frameOf) },
  { weight: 2, arbitrary: fc.constantFrom(...fixtures).map(frameOf) },
  { weight: 2, arbitrary: fc.tuple(anyXml, fc.nat()).map(([x, n]) => { const f = frameOf(x); return f.subarray(0, n % f.length); }) },
  {
    weight: 2,
    arbitrary: fc.record({ length: fc.integer({ min: 0, max: 0xffff }), b2: fc.constantFrom(0, 0, 1, 0x3c), b3: fc.constantFrom(0, 0, 1), body: fc.uint8Array({ maxLength: 200 }) }).map(({ length, b2, b3, body }) => {
      const header = Buffer.from([length & 0xff, length >> 8, b2, b3]);
      return Buffer.concat([header, body]);
    }),
  },
  { weight: 1, arbitrary: fc.tuple(anyXml, fc.nat()).map(([x, n]) => { const f = frameOf(x); if (f.length > 5) f.writeUInt16LE(0xd800 + (n % 0x800), 4 + 2 * ((n >> 11) % ((f.length - 4) >> 1))); return f; }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
);

/** A stream and where it is cut into chunks (positions taken modulo its length). */
const chunkedStream = fc.record({
  pieces: fc.array(streamPiece, { maxLength: 12 }),
  cuts: fc.array(fc.nat(), { maxLength: 20 }),
  maxBodyBytes: fc.option(fc.integer({ min: 0, max: 70_000 }), { nil: undefined }),
});

function chunksOf(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

function decode(chunks: readonly Buffer[], maxBodyBytes: number | undefined): DecodedFrame[] {
  const decoder = new FrameDecoder(maxBodyBytes === undefined ? {} : { maxBodyBytes });
  const out: DecodedFrame[] = [];
  for (const c of chunks) {
    out.push(...decoder.push(c));
    // Memory stays bounded: at most a frame held and a frame's worth of skipped bytes.
    if (decoder.buffered > 2 * (HEADER_BYTES + MAX_BODY_BYTES)) throw new Error(`decoder holds ${decoder.buffered} bytes`);
  }
  out.push(...decoder.end());
  return out;
}

const shown = (frames: readonly DecodedFrame[]) => frames.map((f) => ('xml' in f ? { xml: f.xml } : { error: f.error, raw: f.raw.toString('hex') }));

/** Bytes a frame accounts for: its header and body, or the bytes reported with its error. */
const bytesOf = (f: DecodedFrame) => ('xml' in f ? HEADER_BYTES + Buffer.byteLength(f.xml, 'utf16le') : f.raw.length);

describe('fuzz: 1С-Коннект framing', () => {
  it(
    'random bytes and streams of good, cut and bad frames in random chunks: never throws, same frames however chunked, every byte accounted for once, bounded memory',
    () => {
      fuzz(
        chunkedStream,
        ({ pieces, cuts, maxBodyBytes }) => {
          const bytes = Buffer.concat(pieces);
          const whole = decode([bytes], maxBodyBytes);
          const chunked = decode(chunksOf(bytes, cuts), maxBodyBytes);
          expect(shown(chunked)).toEqual(shown(whole));
          expect(whole.reduce((n, f) => n + bytesOf(f), 0)).toBe(bytes.length);
          for (const f of whole) {
            if ('error' in f) expect(f.error).not.toBe('');
            else normalizeChecked('connect1c', f.xml);
          }
        },
        700,
      );
    },
    FUZZ_TIMEOUT,
  );
});

// ─── XML ──────────────────────────────────────────────────────────────────────────────────────

/** Depth of an element tree, measured without recursion. */
function depthOf(root: XmlElement): number {
  let max = 0;
  const todo: [XmlElement, number][] = [[root, 1]];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [el, d] = next;
    max = Math.max(max, d);
    if (el.name === '' || typeof el.text !== 'string') throw new Error(`element without a name or text at depth ${d}`);
    for (const v of Object.values(el.attrs)) if (typeof v !== 'string') throw new Error(`attribute of <${el.name}> is ${typeof v}`);
    for (const c of el.children) todo.push([c, d + 1]);
  }
  return max;
}

describe('fuzz: 1С-Коннект XML', () => {
  it(
    'parseXml: a tree no deeper than MAX_XML_DEPTH, or SB_ERR_INGEST_MALFORMED naming the problem',
    () => {
      const deep = fc.integer({ min: 1, max: 5_000 }).map((d) => `${'<a>'.repeat(d)}x${'</a>'.repeat(d)}`);
      fuzz(
        fc.oneof({ weight: 6, arbitrary: anyXml }, { weight: 1, arbitrary: deep }),
        (xml) => {
          const root = refusedOr(() => parseXml(xml), MALFORMED);
          if (root) expect(depthOf(root)).toBeLessThanOrEqual(MAX_XML_DEPTH);
        },
        2_000,
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'splitEvents: exact slices of the body, in order, each an <Event>, or SB_ERR_INGEST_MALFORMED naming the problem',
    () => {
      const body = fc.oneof(
        anyXml,
        fc.record({ parts: fc.array(fc.oneof(anyXml, fc.constantFrom(...fixtures)), { maxLength: 6 }), wrap: fc.boolean(), sep: fc.constantFrom('', '\n', '\r\n', ' x ', '<!-- c -->') }).map(({ parts, wrap, sep }) => {
          const inner = parts.join(sep);
          return wrap ? `<?xml version="1.0"?>\r\n<Events>${inner}</Events>` : inner;
        }),
      );
      fuzz(
        body,
        (text) => {
          const events = refusedOr(() => splitEvents(text), MALFORMED);
          if (!events) return;
          expect(events.length).toBeGreaterThan(0);
          let from = 0;
          for (const e of events) {
            const at = text.indexOf(e, from);
            expect(at).toBeGreaterThanOrEqual(from);
            expect(e.startsWith('<Event')).toBe(true);
            from = at + e.length;
          }
        },
        2_000,
      );
    },
    FUZZ_TIMEOUT,
  );
});
