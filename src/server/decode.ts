/**
 * Ingest bodies arrive as bytes and are decoded here, once, in the charset they declare — never
 * guessed, never repaired: bytes that are not valid in it are refused (with the byte offset), so
 * that no U+FFFD is ever stored in place of what a platform sent.
 *
 * - JSON (and NDJSON) is UTF-8 (RFC 8259 §8.1); a byte order mark is skipped. Another declared
 *   charset is refused before the body is read (`charsetRefusal`, 415).
 * - XML (`application/xml`, `text/xml`, `…+xml`) — what 1С-Коннект relays send, in UTF-16LE (with
 *   or without BOM), UTF-8 or windows-1251 — is decoded per RFC 7303 §3.3 and XML 1.0 appendix F:
 *   a byte order mark, else the `charset` parameter, else UTF-16 told by the first bytes (`<` as
 *   a 16-bit unit), else the `encoding` of the `<?xml …?>` declaration, else UTF-8. Any charset
 *   WHATWG `TextDecoder` knows is taken.
 */

export interface MediaType {
  /** Lower case, without parameters: `application/xml`. */
  readonly type: string;
  /** The `charset` parameter as given (unquoted), if any. */
  readonly charset: string | undefined;
}

/** Splits a Content-Type header into its media type and its charset. */
export function parseContentType(header: string | undefined): MediaType {
  const [type = '', ...params] = (header ?? '').split(';');
  let charset: string | undefined;
  for (const p of params) {
    const m = /^\s*charset\s*=\s*(?:"([^"]*)"|([^\s;]*))\s*$/i.exec(p);
    if (m) charset = m[1] ?? m[2];
  }
  return { type: type.trim().toLowerCase(), charset: charset === '' ? undefined : charset };
}

function isXml(type: string): boolean {
  return type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
}

/** The WHATWG name of a charset label (`CP1251` → `windows-1251`), or undefined when unknown. */
function encodingOf(label: string): string | undefined {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return undefined;
  }
}

/** Why a body of this media type cannot be taken in its declared charset, before reading it: JSON that is not UTF-8. */
export function charsetRefusal(media: MediaType): string | undefined {
  if (isXml(media.type) || media.charset === undefined || encodingOf(media.charset) === 'utf-8') return undefined;
  return `JSON must be UTF-8 (RFC 8259); the body declares charset "${media.charset}"`;
}

const BOMS: readonly [readonly number[], string][] = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

interface Declared {
  readonly label: string;
  /** Where the label came from, for the refusal of an unknown one. */
  readonly from: 'charset' | 'declaration' | 'bytes';
}

/** The encoding an XML body declares (see the file comment). */
function xmlEncoding(bytes: Uint8Array, charset: string | undefined): Declared {
  const bom = BOMS.find(([mark]) => mark.every((b, i) => bytes[i] === b));
  if (bom) return { label: bom[1], from: 'bytes' };
  if (charset !== undefined) return { label: charset, from: 'charset' };
  if (bytes[0] === 0x3c && bytes[1] === 0x00) return { label: 'utf-16le', from: 'bytes' };
  if (bytes[0] === 0x00 && bytes[1] === 0x3c) return { label: 'utf-16be', from: 'bytes' };
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 256));
  const declared = /^<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)["']/.exec(head)?.[1];
  return declared === undefined ? { label: 'utf-8', from: 'bytes' } : { label: declared, from: 'declaration' };
}

/** True when the first `n` bytes decode; `complete` requires them to end on a character boundary. */
function decodes(bytes: Uint8Array, encoding: string, n: number, complete: boolean): boolean {
  try {
    new TextDecoder(encoding, { fatal: true }).decode(bytes.subarray(0, n), { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/** The offset where the first sequence invalid in `encoding` begins (the body is known not to decode). */
function firstInvalidByte(bytes: Uint8Array, encoding: string): number {
  // The shortest failing prefix ends inside the first invalid sequence ...
  let ok = 0;
  let bad = bytes.length;
  while (bad - ok > 1) {
    const mid = ok + Math.floor((bad - ok) / 2);
    if (decodes(bytes, encoding, mid, false)) ok = mid;
    else bad = mid;
  }
  // ... which begins where the text before it ends: at most 4 bytes back (the longest sequence).
  for (let start = bad - 1; start > Math.max(0, bad - 4); start--) if (decodes(bytes, encoding, start, true)) return start;
  return Math.max(0, bad - 4);
}

/** The text of a body, or why it has none. */
export type DecodedBody = { readonly text: string } | { readonly error: string };

/**
 * Decodes an ingest body in its declared charset (see the file comment).
 *
 * @example
 * decodeBody(bytes, parseContentType('application/xml; charset=windows-1251')); // { text: '<Event …>…</Event>' }
 * decodeBody(Buffer.from([0x7b, 0xff]), parseContentType('application/json'));
 * // { error: 'the body is not valid utf-8: invalid bytes at byte offset 1' }
 */
export function decodeBody(bytes: Uint8Array, media: MediaType): DecodedBody {
  const declared: Declared = isXml(media.type) ? xmlEncoding(bytes, media.charset) : { label: 'utf-8', from: 'bytes' };
  const encoding = encodingOf(declared.label);
  if (encoding === undefined || encoding === 'replacement') {
    const what = declared.from === 'declaration' ? `the XML declaration names encoding "${declared.label}"` : `the body declares charset "${declared.label}"`;
    return { error: `${what}, which Switchboard cannot decode` };
  }
  try {
    return { text: new TextDecoder(encoding, { fatal: true }).decode(bytes) };
  } catch {
    return { error: `the body is not valid ${encoding}: invalid bytes at byte offset ${firstInvalidByte(bytes, encoding)}` };
  }
}
