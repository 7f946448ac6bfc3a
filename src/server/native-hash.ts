/**
 * The server computes event ids (SHA-256, `src/core/sha256.ts`) with `node:crypto` rather than the
 * core's JS implementation, which stays for the browser build: the same digest of the same UTF-8
 * bytes — `Buffer`'s UTF-8 turns a lone surrogate into U+FFFD as the JS encoder does
 * (`src/core/sha256.test.ts` checks both on the same texts) — at a fraction of the cost (the JS
 * hash was 3.6% of the event loop in B1 and 10% in a replay, docs/performance.md).
 * Importing this module puts it in place.
 */
import { createHash } from 'node:crypto';
import { useNativeSha256 } from '../core/sha256.js';

export function nodeSha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

useNativeSha256(nodeSha256Hex);
