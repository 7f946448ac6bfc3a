import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeSha256Hex } from '../server/native-hash.js';
import { sha256Hex, sha256Js, useNativeSha256 } from './sha256.js';

const node = (s: string) => createHash('sha256').update(Buffer.from(new TextEncoder().encode(s))).digest('hex');

// Importing the server's module put its native hash in place; the JS one is tested as `sha256Js`.
afterAll(() => useNativeSha256(nodeSha256Hex));

describe('sha256Js (the core\'s JS SHA-256, used in browsers)', () => {
  it('gives the FIPS 180-4 test vectors', () => {
    expect(sha256Js('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Js('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Js('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('agrees with node:crypto on every length around the block edges and on any text', () => {
    for (let n = 0; n < 300; n++) expect(sha256Js('x'.repeat(n))).toBe(node('x'.repeat(n)));
    const alphabet = ['a', 'я', '€', '😀', '\u0000', '\n', '\ud800', '\udc00', '"', '\\', '中'];
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 500; i++) {
      let s = '';
      const len = Math.floor(rnd() * 200);
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(sha256Js(s), JSON.stringify(s)).toBe(node(s));
    }
    expect(sha256Js('y'.repeat(100_000))).toBe(node('y'.repeat(100_000)));
  });
});

describe('sha256Hex on the server', () => {
  it('is the node:crypto digest, equal to the JS one on the same texts (lone surrogates included)', () => {
    const alphabet = ['a', 'я', '€', '😀', '\u0000', '\ud800', '\udc00', '\udbff\udfff', '中'];
    let seed = 11;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 500; i++) {
      let s = '';
      const len = Math.floor(rnd() * 120);
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(nodeSha256Hex(s), JSON.stringify(s)).toBe(sha256Js(s));
      expect(sha256Hex(s)).toBe(nodeSha256Hex(s));
    }
    useNativeSha256(undefined);
    expect(sha256Hex('\ud800x')).toBe(sha256Js('\ud800x'));
  });
});
