/**
 * The framing of the 1С-Коннект application pipe (PLATFORMS.md "1С-Коннект", seed 003): each
 * message is a 4-byte header — bytes 0–1 the body length in bytes, little-endian; bytes 2–3 zero —
 * followed by the body, XML in UTF-16LE. A valid body length is even, at least 50 and at most
 * 65535.
 *
 * `FrameDecoder` reads a byte stream in chunks of any size: it reassembles frames split across
 * chunks and splits chunks holding several frames. A bad frame becomes an error item with a
 * precise reason and the bytes it covered, and the decoder resynchronises on the next plausible
 * header, so one bad frame never loses the good ones after it. The output depends only on the
 * bytes, never on where the chunks were cut.
 *
 * @example
 * const decoder = new FrameDecoder();
 * socket.on('data', (chunk: Buffer) => {
 *   for (const f of decoder.push(chunk)) 'xml' in f ? handle(f.xml) : quarantine(f.error, f.raw);
 * });
 * socket.write(encodeFrame('<Command Action="EventSubscribe" Mode="Colleagues" Object="Call" Initiator="Incoming" ID="…"/>'));
 */

/** Size of the frame header in bytes. */
export const HEADER_BYTES = 4;
/** Smallest body length the application sends, in bytes. */
export const MIN_BODY_BYTES = 50;
/** Largest body length a 16-bit header can carry, in bytes. */
export const MAX_BODY_BYTES = 65_535;

/** One frame read from the stream: its XML text, or why its bytes could not be read. */
export type DecodedFrame = { readonly xml: string } | { readonly error: string; readonly raw: Buffer };

/**
 * Frames one XML document: the header, then the body in UTF-16LE.
 * Throws `RangeError` when the body is outside 50..65535 bytes (use raw bytes to send bad frames).
 *
 * @example
 * encodeFrame('<Event ID="…" Time="2019-01-31T12:47:28" Mode="Colleagues" Object="Message" Initiator="Incoming"/>');
 */
export function encodeFrame(xml: string): Buffer {
  const body = Buffer.from(xml, 'utf16le');
  if (body.length < MIN_BODY_BYTES || body.length > MAX_BODY_BYTES) {
    throw new RangeError(`a frame body must be ${MIN_BODY_BYTES}..${MAX_BODY_BYTES} bytes; this XML takes ${body.length}`);
  }
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16LE(body.length, 0);
  return Buffer.concat([header, body]);
}

/**
 * Why a body is not valid UTF-16LE, or undefined when it is: an unpaired high or low surrogate,
 * named by its byte offset in the body.
 */
export function utf16Problem(body: Buffer): string | undefined {
  for (let i = 0; i + 1 < body.length; i += 2) {
    const unit = body.readUInt16LE(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = i + 3 < body.length ? body.readUInt16LE(i + 2) : -1;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 2;
        continue;
      }
      return `invalid UTF-16: lone surrogate at byte ${i}`;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return `invalid UTF-16: lone surrogate at byte ${i}`;
  }
  return undefined;
}

export interface FrameDecoderOptions {
  /** Largest body accepted, in bytes (default 65535, all a header can say). */
  readonly maxBodyBytes?: number;
}

/** Skipped bytes are reported at the latest after this many (a whole frame's worth). */
const SKIP_REPORT_BYTES = HEADER_BYTES + MAX_BODY_BYTES;

/** Bytes skipped while resynchronising, reported as one error item. */
interface Skipping {
  readonly reason: string;
  readonly parts: Buffer[];
  size: number;
}

/**
 * A streaming decoder of application frames. `push` returns the frames completed by a chunk, in
 * stream order; `end` reports what is left when the stream closes.
 *
 * A header that cannot be right (odd length, length below 50 or above the maximum, bytes 2–3
 * not zero) starts a resynchronisation: the decoder scans forward, byte by byte, for the next
 * plausible header — a length in range, bytes 2–3 zero, and a body that starts with `<` in
 * UTF-16LE (0x3C 0x00) — and reports the skipped bytes as ONE error item once it finds it (or
 * once a frame's worth of bytes was skipped without finding one, or at `end`). A frame whose
 * header is right but whose body is not valid UTF-16LE is one error item; decoding goes on
 * after it. A plausible header can in theory appear inside a garbled body (it takes two zero
 * bytes followed by `<`, i.e. a U+xx00 character before a `<`); such a false start is itself
 * caught by the checks and resynchronised again.
 */
export class FrameDecoder {
  /** Unread bytes, as received: joined only once enough of them are held to make progress. */
  private chunks: Buffer[] = [];
  private held = 0;
  /** Bytes that must be held before decoding can make progress (a header, a whole frame). */
  private need = HEADER_BYTES;
  private skipping: Skipping | undefined;
  private readonly maxBody: number;

  constructor(opts: FrameDecoderOptions = {}) {
    this.maxBody = Math.min(MAX_BODY_BYTES, Math.max(MIN_BODY_BYTES, opts.maxBodyBytes ?? MAX_BODY_BYTES));
  }

  /** Bytes held, waiting for the rest of a frame or for a resynchronisation. */
  get buffered(): number {
    return this.held + (this.skipping?.size ?? 0);
  }

  push(chunk: Buffer): DecodedFrame[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.held += chunk.length;
    // Waiting for the rest of a known frame: joining the chunks now would only copy them again.
    if (this.held < this.need) return [];
    const buf = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.held);
    const out: DecodedFrame[] = [];
    let pos = 0;
    for (;;) {
      if (this.skipping) {
        const found = this.scan(buf, pos);
        // Positions within the last 5 bytes cannot be judged yet: they stay held.
        const decided = found ?? Math.max(pos, buf.length - (HEADER_BYTES + 1));
        const n = Math.min(decided - pos, SKIP_REPORT_BYTES - this.skipping.size);
        this.skip(buf.subarray(pos, pos + n));
        pos += n;
        if (this.skipping.size >= SKIP_REPORT_BYTES) {
          // Garbage is reported in pieces of a fixed size: memory stays bounded, and a stream
          // that never resynchronises still reports, at the same offsets however it is chunked.
          out.push(this.endSkip());
          if (found === undefined || pos < found) this.skipping = { reason: 'no plausible frame header', parts: [], size: 0 };
          continue;
        }
        if (found === undefined) {
          this.need = buf.length - pos + 1;
          break;
        }
        out.push(this.endSkip());
      }
      if (buf.length - pos < HEADER_BYTES) {
        this.need = HEADER_BYTES;
        break;
      }
      const problem = this.headerProblem(buf, pos);
      if (problem) {
        this.skipping = { reason: problem, parts: [], size: 0 };
        // The bad header's first byte goes for sure; the scan for a plausible header starts at the next one.
        this.skip(buf.subarray(pos, pos + 1));
        pos += 1;
        continue;
      }
      const length = buf.readUInt16LE(pos);
      if (buf.length - pos < HEADER_BYTES + length) {
        this.need = HEADER_BYTES + length;
        break;
      }
      const frame = buf.subarray(pos, pos + HEADER_BYTES + length);
      pos += HEADER_BYTES + length;
      const body = frame.subarray(HEADER_BYTES);
      const bad = utf16Problem(body);
      out.push(bad ? { error: bad, raw: Buffer.from(frame) } : { xml: body.toString('utf16le') });
    }
    const rest = buf.subarray(pos);
    this.chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.held = rest.length;
    return out;
  }

  /** Reports what the stream left unread when it closed (a partial frame, skipped bytes) and resets the decoder. */
  end(): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    const rest = Buffer.concat(this.chunks, this.held);
    if (this.skipping) {
      this.skip(rest);
      out.push(this.endSkip());
    } else if (rest.length > 0) {
      const raw = rest;
      const need = raw.length >= HEADER_BYTES ? HEADER_BYTES + raw.readUInt16LE(0) : HEADER_BYTES;
      out.push({ error: `truncated frame: the stream ended after ${raw.length} of ${need} bytes`, raw });
    }
    this.chunks = [];
    this.held = 0;
    this.need = HEADER_BYTES;
    return out;
  }

  private headerProblem(buf: Buffer, pos: number): string | undefined {
    const length = buf.readUInt16LE(pos);
    if (buf[pos + 2] !== 0 || buf[pos + 3] !== 0) return 'header bytes 2-3 not zero';
    if (length % 2 !== 0) return `odd length ${length}`;
    if (length < MIN_BODY_BYTES) return `length ${length} below ${MIN_BODY_BYTES}`;
    if (length > this.maxBody) return `length ${length} above ${this.maxBody}`;
    return undefined;
  }

  /** The offset of the next plausible header at or after `from`, or undefined when the bytes held cannot tell yet. */
  private scan(buf: Buffer, from: number): number | undefined {
    for (let p = from; p + HEADER_BYTES + 2 <= buf.length; p++) {
      if (buf[p + 2] !== 0 || buf[p + 3] !== 0 || buf[p + 4] !== 0x3c || buf[p + 5] !== 0) continue;
      if (this.headerProblem(buf, p) === undefined) return p;
    }
    return undefined;
  }

  private skip(bytes: Buffer): void {
    const s = this.skipping;
    if (!s || bytes.length === 0) return;
    s.parts.push(Buffer.from(bytes));
    s.size += bytes.length;
  }

  private endSkip(): DecodedFrame {
    const s = this.skipping as Skipping;
    this.skipping = undefined;
    const raw = Buffer.concat(s.parts);
    return { error: `${s.reason} (skipped ${raw.length} bytes to resynchronise)`, raw };
  }
}
