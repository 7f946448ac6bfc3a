/**
 * What counts as a secret in a config or a payload, and how it is hidden when shown: values of
 * secret-like keys (`apiToken`, `ingestToken`, `apiTokenInstance`, `password`, `pass`, `secret`,
 * `extraSecrets`, …) and the password and secret-like query parameters of URLs
 * (`postgres://user:…@host`, `…?access_token=…`).
 */

/** What a hidden value is shown as. */
export const MASK = '********';

const SECRET_KEY_RE = /token|secret|password|passwd|passphrase|pwd|api[-_]?key|credential|private[-_]?key|signature|cookie|^(pass|key|sig|nkey|seed)$/i;

/** True for a key whose value is a secret: `apiToken`, `apiTokenInstance`, `password`, `pass`, `extraSecrets`, … */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_RE.test(key);
}

/** The URL with its password and the values of secret-like query parameters masked; other strings unchanged. */
export function maskUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  // Several URLs may share one string (NATS: "nats://a:4222,nats://b:4222").
  return value
    .split(',')
    .map((part) =>
      part
        .replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/[^/?#@:\s]*:)[^/?#@\s]*@/i, `$1${MASK}@`)
        .replace(/([?&;])([^=&#;]+)=([^&#;]*)/g, (m, sep: string, name: string) => (isSecretKey(decodeSafe(name)) ? `${sep}${name}=${MASK}` : m)),
    )
    .join(',');
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A deep copy with every secret masked: values of secret-like keys, and passwords in URLs. */
export function maskSecrets(value: unknown, secret = false): unknown {
  if (typeof value === 'string') return secret ? MASK : maskUrl(value);
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, secret));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskSecrets(v, secret || isSecretKey(k));
    return out;
  }
  return value;
}
