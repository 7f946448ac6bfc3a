/**
 * SHA-256 (FIPS 180-4) of a string's UTF-8 bytes, as lowercase hex: what event ids and payload
 * hashes need, and no more, because the core also goes into the browser module (a general
 * hashing library is a quarter of that budget). `sha256.test.ts` compares it with `node:crypto`.
 */

/** The first 32 bits of the fractional part of x. */
function frac32(x: number): number {
  return ((x - Math.floor(x)) * 4294967296) >>> 0;
}

/** Round constants (cube roots of the first 64 primes) and initial hash (square roots of the first 8). */
const K = new Int32Array(64);
const INITIAL = new Int32Array(8);
for (let n = 2, found = 0; found < 64; n++) {
  let prime = true;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
  if (!prime) continue;
  if (found < 8) INITIAL[found] = frac32(Math.sqrt(n));
  K[found++] = frac32(Math.cbrt(n));
}

/** UTF-8 bytes of a string, lone surrogates as U+FFFD (as TextEncoder does), in a padded SHA-256 message. */
function message(s: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xe000) {
      const next = s.charCodeAt(i + 1);
      if (c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else c = 0xfffd;
    }
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  const length = bytes.length;
  const out = new Uint8Array((((length + 8) >> 6) + 1) << 6);
  out.set(bytes);
  out[length] = 0x80;
  const bits = length * 8;
  const view = new DataView(out.buffer);
  view.setUint32(out.length - 8, Math.floor(bits / 4294967296));
  view.setUint32(out.length - 4, bits >>> 0);
  return out;
}

function ror(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}

/**
 * Hex SHA-256 of the UTF-8 bytes of `s`.
 *
 * @example sha256Hex('abc') // 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
 */
export function sha256Hex(s: string): string {
  const m = message(s);
  const view = new DataView(m.buffer);
  const h = INITIAL.slice();
  const w = new Int32Array(64);
  for (let off = 0; off < m.length; off += 64) {
    for (let j = 0; j < 64; j++) {
      if (j < 16) w[j] = view.getInt32(off + j * 4);
      else {
        const a = w[j - 15]!;
        const b = w[j - 2]!;
        w[j] = w[j - 16]! + (ror(a, 7) ^ ror(a, 18) ^ (a >>> 3)) + w[j - 7]! + (ror(b, 17) ^ ror(b, 19) ^ (b >>> 10));
      }
    }
    let [a, b, c, d, e, f, g, k] = h as unknown as [number, number, number, number, number, number, number, number];
    for (let j = 0; j < 64; j++) {
      const t1 = (k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[j]! + w[j]!) | 0;
      const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const add = [a, b, c, d, e, f, g, k];
    for (let i = 0; i < 8; i++) h[i] = h[i]! + add[i]!;
  }
  let hex = '';
  for (const x of h) hex += (x >>> 0).toString(16).padStart(8, '0');
  return hex;
}
