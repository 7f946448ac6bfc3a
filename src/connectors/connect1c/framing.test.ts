/**
 * The pipe framing: encoding, reassembly under any chunking (a property test over a recorded
 * stream of every object), and resynchronisation after each kind of bad frame.
 */
import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame, utf16Problem, type DecodedFrame } from './framing.js';
import { allScenarioEvents, badFrames } from './scenarios.js';
import { seededRandom } from '../../core/index.js';


/** Cuts `bytes` at random boundaries: chunks of 1..maxChunk bytes. */
function cut(bytes: Buffer, random: () => number, maxChunk: number): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const n = 1 + Math.floor(random() * maxChunk);
    out.push(bytes.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

type Shown = { xml: string } | { error: string; raw: string };

function decodeAll(chunks: readonly Buffer[], decoder = new FrameDecoder()): Shown[] {
  const frames: DecodedFrame[] = [];
  for (const c of chunks) frames.push(...decoder.push(c));
  frames.push(...decoder.end());
  return frames.map((f) => ('xml' in f ? { xml: f.xml } : { error: f.error, raw: f.raw.toString('hex') }));
}

const commandResult = (i: number) => `<CommandResult Action="EventSubscribe" ID="00000000-0000-4000-8000-${String(i).padStart(12, '0')}"><Result>Success</Result></CommandResult>`;

/** A recorded stream: every scenario's events twice over (two runs), with CommandResults between them. */
function recordedStream(): string[] {
  const events = [...allScenarioEvents({ now: Date.UTC(2024, 4, 20, 9, 0, 0) }), ...allScenarioEvents({ now: Date.UTC(2024, 4, 21, 14, 30, 0), timeZone: 'Asia/Yekaterinburg' })];
  const out: string[] = [];
  events.forEach((e, i) => {
    out.push(e);
    if (i % 7 === 0) out.push(commandResult(i));
  });
  return out;
}

describe('1С-Коннект framing', () => {
  it('encodes the header: length little-endian, bytes 2-3 zero, body UTF-16LE', () => {
    const xml = '<Event ID="1" Mode="Colleagues" Object="Message" Initiator="Incoming"><MessageBody>Привет 👋</MessageBody></Event>';
    const frame = encodeFrame(xml);
    const body = Buffer.from(xml, 'utf16le');
    expect(frame.readUInt16LE(0)).toBe(body.length);
    expect([frame[2], frame[3]]).toEqual([0, 0]);
    expect(frame.subarray(4).equals(body)).toBe(true);
    expect(() => encodeFrame('<a/>')).toThrow(/50\.\.65535 bytes; this XML takes 8/);
    expect(() => encodeFrame(`<a>${'x'.repeat(40_000)}</a>`)).toThrow(RangeError);
  });

  it('finds lone surrogates and accepts pairs', () => {
    expect(utf16Problem(Buffer.from('a😀b', 'utf16le'))).toBeUndefined();
    const high = Buffer.from('abc', 'utf16le');
    high.writeUInt16LE(0xd83d, 2);
    expect(utf16Problem(high)).toBe('invalid UTF-16: lone surrogate at byte 2');
    const low = Buffer.from('abc', 'utf16le');
    low.writeUInt16LE(0xde00, 4);
    expect(utf16Problem(low)).toBe('invalid UTF-16: lone surrogate at byte 4');
    const trailingHigh = Buffer.from('ab', 'utf16le');
    trailingHigh.writeUInt16LE(0xdbff, 2);
    expect(utf16Problem(trailingHigh)).toBe('invalid UTF-16: lone surrogate at byte 2');
  });

  it('property: a recorded stream of every object decodes to the same XML sequence however it is split and merged (250 seeded trials, 1-byte chunks included)', () => {
    const xmls = recordedStream();
    expect(xmls.length).toBeGreaterThanOrEqual(50);
    expect(xmls.some((x) => /Object="RemoteAccessSession"/.test(x) && /<File /.test(x))).toBe(true);
    expect(xmls.some((x) => /[\u{1F300}-\u{1FAFF}]/u.test(x))).toBe(true);
    expect(xmls.some((x) => /[А-Яа-яЁё]/.test(x))).toBe(true);
    const stream = Buffer.concat(xmls.map(encodeFrame));
    const expected = xmls.map((xml) => ({ xml }));
    const random = seededRandom(20240520);
    const maxChunks = [1, 2, 3, 7, 64, 500, 4096, stream.length];
    for (let trial = 0; trial < 250; trial++) {
      // Every 25th trial feeds the stream one byte at a time; the others cut it with chunks of varied sizes.
      const maxChunk = trial % 25 === 0 ? 1 : (maxChunks[Math.floor(random() * maxChunks.length)] as number);
      const chunks = trial % 25 === 0 ? cut(stream, () => 0, 1) : cut(stream, random, maxChunk);
      const got = decodeAll(chunks);
      if (got.length !== expected.length || got.some((g, i) => !('xml' in g) || g.xml !== expected[i]?.xml)) {
        expect({ trial, maxChunk, got: got.length }).toEqual({ trial, maxChunk, got: expected.length });
        expect(got).toEqual(expected);
      }
    }
  });

  const goods = allScenarioEvents({ now: Date.UTC(2024, 0, 15, 10, 0, 0) }).slice(0, 4);
  const [g1, g2, g3] = goods as [string, string, string];
  const kinds = badFrames();

  describe.each(['odd-length', 'short-length', 'header-not-zero', 'lone-surrogate'])('bad frame: %s', (kind) => {
    const bad = kinds[kind];
    if (!bad) throw new Error(kind);

    it('yields one error item with the precise reason and the bytes, then the good frames after it, under any chunking', () => {
      const stream = Buffer.concat([encodeFrame(g1), bad.raw, encodeFrame(g2), encodeFrame(g3)]);
      const whole = decodeAll([stream]);
      expect(whole.map((f) => ('xml' in f ? 'xml' : 'error'))).toEqual(['xml', 'error', 'xml', 'xml']);
      expect(whole[0]).toEqual({ xml: g1 });
      const err = whole[1] as { error: string; raw: string };
      expect(err.error.startsWith(bad.reason)).toBe(true);
      expect(err.raw).toBe(bad.raw.toString('hex'));
      expect(whole.slice(2)).toEqual([{ xml: g2 }, { xml: g3 }]);
      const random = seededRandom(kind.length * 7919);
      for (let trial = 0; trial < 40; trial++) expect(decodeAll(cut(stream, random, trial % 10 === 0 ? 1 : 1 + Math.floor(random() * 300)))).toEqual(whole);
    });
  });

  it('names the reasons exactly', () => {
    const reasons = ['odd-length', 'short-length', 'header-not-zero'].map((k) => {
      const got = decodeAll([Buffer.concat([(kinds[k] as { raw: Buffer }).raw, encodeFrame(g1)])]);
      return (got[0] as { error: string }).error;
    });
    expect(reasons[0]).toMatch(/^odd length 51 \(skipped 55 bytes to resynchronise\)$/);
    expect(reasons[1]).toBe('length 12 below 50 (skipped 16 bytes to resynchronise)');
    expect(reasons[2]).toBe('header bytes 2-3 not zero (skipped 64 bytes to resynchronise)');
    const lone = decodeAll([(kinds['lone-surrogate'] as { raw: Buffer }).raw]);
    expect((lone[0] as { error: string }).error).toMatch(/^invalid UTF-16: lone surrogate at byte \d+$/);
  });

  it('a frame over the configured maximum is skipped with its reason', () => {
    const big = `<Event ID="big" Mode="Colleagues" Object="Message" Initiator="Incoming"><MessageBody>${'ж'.repeat(500)}</MessageBody></Event>`;
    const small = '<Event ID="s" Mode="Colleagues" Object="AgentOnlineStatus" Initiator="Incoming"><Status>Online</Status></Event>';
    const got = decodeAll([Buffer.concat([encodeFrame(big), encodeFrame(small)])], new FrameDecoder({ maxBodyBytes: 600 }));
    expect(got).toHaveLength(2);
    expect((got[0] as { error: string }).error).toMatch(/^length \d+ above 600 \(skipped \d+ bytes to resynchronise\)$/);
    expect(got[1]).toEqual({ xml: small });
  });

  it('several bad frames in a row, garbage between frames, and garbage at the end', () => {
    const garbage = Buffer.from([0xff, 0xfe, 0x01, 0x02, 0x03]);
    const stream = Buffer.concat([garbage, encodeFrame(g1), (kinds['odd-length'] as { raw: Buffer }).raw, (kinds['short-length'] as { raw: Buffer }).raw, encodeFrame(g2), garbage]);
    const got = decodeAll([stream]);
    expect(got.map((f) => ('xml' in f ? f.xml : f.error.replace(/ \(.*/, '')))).toEqual(['header bytes 2-3 not zero', g1, 'odd length 51', g2, 'header bytes 2-3 not zero']);
    const random = seededRandom(5);
    for (let trial = 0; trial < 30; trial++) expect(decodeAll(cut(stream, random, 1 + Math.floor(random() * 50)))).toEqual(got);
  });

  it('reports long garbage in bounded pieces, the same however it is chunked, and then decodes again', () => {
    const garbage = Buffer.alloc(200_000, 0xab);
    const stream = Buffer.concat([garbage, encodeFrame(g1)]);
    const got = decodeAll([stream]);
    expect(got.map((f) => ('xml' in f ? 'xml' : f.raw.length / 2))).toEqual([65_539, 65_539, 65_539, 200_000 - 3 * 65_539, 'xml']);
    expect((got[1] as { error: string }).error).toMatch(/^no plausible frame header/);
    expect(decodeAll(cut(stream, seededRandom(9), 997))).toEqual(got);
  });

  it('a stream that ends inside a frame reports the truncated frame', () => {
    const frame = encodeFrame(g1);
    const decoder = new FrameDecoder();
    expect(decoder.push(frame.subarray(0, 100))).toEqual([]);
    expect(decoder.buffered).toBe(100);
    const [end] = decoder.end();
    expect(end).toMatchObject({ error: `truncated frame: the stream ended after 100 of ${frame.length} bytes` });
    // The decoder is reset: a new stream decodes from its start.
    expect(decoder.push(frame)).toEqual([{ xml: g1 }]);
  });
});
