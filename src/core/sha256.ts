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

/** The message buffer, reused between calls (hashing is synchronous). */
let buf = new Uint8Array(256);
const W = new Int32Array(64);

/**
 * Writes the UTF-8 bytes of a string (lone surrogates as U+FFFD, as TextEncoder does) and the
 * SHA-256 padding into `buf`; returns the padded length.
 */
function message(s: string): number {
  // At most 3 bytes per UTF-16 unit, plus padding.
  const need = ((s.length * 3 + 72) >> 6) << 6;
  if (buf.length < need) buf = new Uint8Array(need * 2);
  const b = buf;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      b[n++] = c;
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      const next = s.charCodeAt(i + 1);
      if (c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else c = 0xfffd;
    }
    if (c < 0x800) b[n++] = 0xc0 | (c >> 6);
    else {
      if (c < 0x10000) b[n++] = 0xe0 | (c >> 12);
      else {
        b[n++] = 0xf0 | (c >> 18);
        b[n++] = 0x80 | ((c >> 12) & 63);
      }
      b[n++] = 0x80 | ((c >> 6) & 63);
    }
    b[n++] = 0x80 | (c & 63);
  }
  const total = (((n + 8) >> 6) + 1) << 6;
  b.fill(0, n, total);
  b[n] = 0x80;
  const bits = n * 8;
  const hi = Math.floor(bits / 4294967296);
  for (let k = 0; k < 4; k++) {
    b[total - 8 + k] = hi >>> (24 - 8 * k);
    b[total - 4 + k] = bits >>> (24 - 8 * k);
  }
  return total;
}

function ror(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}

/** A native implementation put in place by the host (the server: `node:crypto`), or none. */
let native: ((s: string) => string) | undefined;

/**
 * Lets a host with a native SHA-256 (Node's `createHash`) compute `sha256Hex` with it: the same
 * digest of the same UTF-8 bytes (lone surrogates as U+FFFD, as here), several times faster. The
 * core stays free of Node built-ins; the browser build keeps the JS implementation below.
 * `undefined` goes back to it.
 */
export function useNativeSha256(impl: ((s: string) => string) | undefined): void {
  native = impl;
}

/**
 * Hex SHA-256 of the UTF-8 bytes of `s`.
 *
 * @example sha256Hex('abc') // 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
 */
export function sha256Hex(s: string): string {
  if (native) return native(s);
  return sha256Js(s);
}

/** The JS implementation (browsers, and the reference the native one is tested against). */
export function sha256Js(s: string): string {
  const length = message(s);
  const b = buf;
  const h = INITIAL.slice();
  for (let off = 0; off < length; off += 64) {
    for (let j = 0; j < 64; j++) {
      if (j < 16) {
        const o = off + j * 4;
        W[j] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
      } else {
        const x = W[j - 15]!;
        const y = W[j - 2]!;
        W[j] = W[j - 16]! + (ror(x, 7) ^ ror(x, 18) ^ (x >>> 3)) + W[j - 7]! + (ror(y, 17) ^ ror(y, 19) ^ (y >>> 10));
      }
    }
    let a = h[0]!;
    let c1 = h[1]!;
    let c2 = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    let f = h[5]!;
    let g = h[6]!;
    let k = h[7]!;
    for (let j = 0; j < 64; j++) {
      const t1 = (k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[j]! + W[j]!) | 0;
      const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & c1) ^ (a & c2) ^ (c1 & c2))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c2;
      c2 = c1;
      c1 = a;
      a = (t1 + t2) | 0;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + c1;
    h[2] = h[2]! + c2;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
    h[5] = h[5]! + f;
    h[6] = h[6]! + g;
    h[7] = h[7]! + k;
  }
  let hex = '';
  for (let i = 0; i < 8; i++) hex += (h[i]! >>> 0).toString(16).padStart(8, '0');
  return hex;
}
