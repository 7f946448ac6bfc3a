/**
 * TWIN token lifecycle: a static token, or an IAM login (`POST {iamUrl}/api/v1/auth/login`)
 * refreshed 15 minutes before it expires and whenever the server refuses it.
 */
import { request } from 'undici';
import { RetryableError, SwitchboardError, isRecord } from '../../core/index.js';

export type TwinAuth = { readonly token: string } | { readonly email: string; readonly password: string; readonly iamUrl?: string | undefined; readonly ttlSec?: number | undefined };

/** Refresh this long before the token's end. */
export const REFRESH_BEFORE_MS = 15 * 60_000;

/** The `exp` of a JWT, in ms; undefined when the token is not a JWT with one. */
export function jwtExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return isRecord(payload) && typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export class TwinTokens {
  private token: string | undefined;
  private expiry = 0;
  logins = 0;

  constructor(
    private readonly auth: TwinAuth,
    private readonly now: () => number = Date.now,
  ) {}

  /** When the current login token ends (ms); 0 before the first login or for a static token. */
  get expiresAt(): number {
    return this.expiry;
  }

  /** True when the token comes from a login and can be renewed. */
  get renewable(): boolean {
    return !('token' in this.auth);
  }

  /** The token to present now; logs in when there is none or it is within 15 minutes of its end. */
  async current(signal?: AbortSignal): Promise<string> {
    if ('token' in this.auth) return this.auth.token;
    if (this.token === undefined || this.now() >= this.expiry - REFRESH_BEFORE_MS) await this.login(signal);
    return this.token as string;
  }

  /** Forgets the token, e.g. after the server refused it (HTTP 403, a token-expired reply). */
  invalidate(): void {
    this.token = undefined;
  }

  private async login(signal?: AbortSignal): Promise<void> {
    if ('token' in this.auth) return;
    const ttlSec = this.auth.ttlSec ?? 86_400;
    const url = `${(this.auth.iamUrl ?? 'https://iam.twin24.ai').replace(/\/+$/, '')}/api/v1/auth/login`;
    let status: number;
    let text: string;
    try {
      const res = await request(url, { method: 'POST', signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: this.auth.email, password: this.auth.password, ttl: ttlSec }), headersTimeout: 30_000, bodyTimeout: 30_000 });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new RetryableError(`TWIN login at ${url}: ${(err as Error).message}`, { cause: err });
    }
    if (status === 400 || status === 401 || status === 403 || status === 422) {
      throw new SwitchboardError('SB_ERR_CONNECTOR_AUTH', `TWIN login refused for ${this.auth.email} (HTTP ${status}); check auth.email and auth.password`);
    }
    if (status !== 200 && status !== 201) throw new RetryableError(`TWIN login at ${url}: HTTP ${status}`);
    let token: unknown;
    try {
      const body = JSON.parse(text) as unknown;
      token = isRecord(body) ? body.token : undefined;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '') throw new RetryableError(`TWIN login at ${url}: the answer has no token`);
    this.token = token;
    this.logins++;
    this.expiry = jwtExpiry(token) ?? this.now() + ttlSec * 1000;
  }
}
