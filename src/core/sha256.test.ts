import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './sha256.js';

const node = (s: string) => createHash('sha256').update(Buffer.from(new TextEncoder().encode(s))).digest('hex');

describe('sha256Hex', () => {
  it('gives the FIPS 180-4 test vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('agrees with node:crypto on every length around the block edges and on any text', () => {
    for (let n = 0; n < 300; n++) expect(sha256Hex('x'.repeat(n))).toBe(node('x'.repeat(n)));
    const alphabet = ['a', 'я', '€', '😀', '\u0000', '\n', '\ud800', '\udc00', '"', '\\', '中'];
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 500; i++) {
      let s = '';
      const len = Math.floor(rnd() * 200);
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(sha256Hex(s), JSON.stringify(s)).toBe(node(s));
    }
    expect(sha256Hex('y'.repeat(100_000))).toBe(node('y'.repeat(100_000)));
  });
});
