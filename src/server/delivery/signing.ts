/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 with the base64-decoded part of a
 * `whsec_` secret, sent as `v1,<base64>`; while several secrets are valid (rotation) the
 * `webhook-signature` header carries one signature per secret, separated by spaces.
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer | undefined {
  if (!secret.startsWith(PREFIX)) return undefined;
  const b64 = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
  return Buffer.from(b64, 'base64');
}

/** What is wrong with a secret, or `undefined` when it is a valid `whsec_` secret. */
export function secretProblem(secret: string): string | undefined {
  const key = keyOf(secret);
  if (!key) return 'expected "whsec_" followed by base64';
  if (key.length < 24 || key.length > 64) return `expected 24 to 64 bytes of key, found ${key.length}`;
  return undefined;
}

/** `v1,<base64 HMAC-SHA256>` of one message with one secret. */
export function signatureOf(secret: string, id: string, timestampSec: number, body: string): string {
  const key = keyOf(secret);
  if (!key) throw new Error('invalid webhook secret');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSec}.${body}`).digest('base64')}`;
}

/** The `webhook-signature` header: one signature per valid secret, space-separated. */
export function signatureHeader(secrets: readonly string[], id: string, timestampSec: number, body: string): string {
  return secrets.map((s) => signatureOf(s, id, timestampSec, body)).join(' ');
}

/** A recognisable, harmless part of a secret for listings: `whsec_AbCd…`. */
export function secretHint(secret: string): string {
  return `${secret.slice(0, PREFIX.length + 4)}…`;
}
