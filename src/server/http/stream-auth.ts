/**
 * Credentials besides the `Authorization` header. In the query string, for `EventSource`, which
 * cannot set headers: a short-lived, one-use stream ticket from `POST /v1/stream/tickets`
 * (preferred: the API token never sits in a URL) or, for compatibility, the API token itself as
 * `access_token` — both taken on `GET /v1/stream` only. And the dashboard's session: a cookie
 * (`HttpOnly`, `SameSite=Strict`) from `POST /v1/sessions`, so that the page keeps no token in
 * script-readable storage or in URLs. None is ever logged.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ValidationError } from '../../core/index.js';

/** How long a ticket may wait to be used. */
export const STREAM_TICKET_TTL_MS = 60_000;
/** How long a dashboard session lasts. */
export const SESSION_TTL_MS = 12 * 3_600_000;
/** The session cookie's name. */
export const SESSION_COOKIE = 'sb_session';
/** Tickets held at most; past this, issuing one forgets the oldest. */
export const MAX_STREAM_TICKETS = 1000;

/** The query parameters that carry a credential. */
export const QUERY_CREDENTIALS = ['ticket', 'access_token'] as const;
export type QueryCredential = (typeof QUERY_CREDENTIALS)[number];

function digest(ticket: string): string {
  return createHash('sha256').update(ticket).digest('base64url');
}

/**
 * Random secrets held in memory with a lifetime — stream tickets (used once) and sessions — by
 * digest, at most `max` (issuing past it forgets the oldest). A restart forgets them all: a client
 * asks for a new ticket, a person logs in again.
 */
export class StreamTickets {
  /** Digest of each ticket → when it expires (epoch ms), in the order issued. */
  private readonly held = new Map<string, number>();

  constructor(
    private readonly ttlMs = STREAM_TICKET_TTL_MS,
    private readonly max = MAX_STREAM_TICKETS,
  ) {}

  issue(): { ticket: string; expiresAt: string } {
    const now = Date.now();
    for (const [key, expires] of this.held) {
      if (expires > now && this.held.size < this.max) break;
      this.held.delete(key);
    }
    const ticket = randomBytes(32).toString('base64url');
    const expires = now + this.ttlMs;
    this.held.set(digest(ticket), expires);
    return { ticket, expiresAt: new Date(expires).toISOString() };
  }

  /** True for a ticket issued and not used yet, within its lifetime; it is used up either way. */
  redeem(ticket: string): boolean {
    const key = digest(ticket);
    const expires = this.held.get(key);
    if (expires === undefined) return false;
    this.held.delete(key);
    return Date.now() < expires;
  }

  /** True for a secret issued, within its lifetime (a session: not used up). */
  valid(secret: string): boolean {
    const expires = this.held.get(digest(secret));
    return expires !== undefined && Date.now() < expires;
  }

  /** Forgets a secret (logout). */
  revoke(secret: string): void {
    this.held.delete(digest(secret));
  }
}

/** The value of a credential parameter; given more than once, a 400 naming it (never the value). */
export function queryCredential(query: unknown, name: QueryCredential): string | undefined {
  const value = typeof query === 'object' && query !== null ? (query as Record<string, unknown>)[name] : undefined;
  if (value === undefined || typeof value === 'string') return value;
  throw new ValidationError('SB_ERR_QUERY_INVALID', `invalid query: ${name} is given more than once; give it once`);
}

const CREDENTIAL_KEYS: ReadonlySet<string> = new Set(QUERY_CREDENTIALS);

function isCredentialKey(raw: string): boolean {
  try {
    // As the query parser reads it: `access%5Ftoken` is `access_token`.
    return CREDENTIAL_KEYS.has(decodeURIComponent(raw.replace(/\+/g, ' ')));
  } catch {
    return CREDENTIAL_KEYS.has(raw);
  }
}

/** A URL with the value of every credential parameter replaced by `[secret]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const key = pair.split('=', 1)[0] ?? '';
      return isCredentialKey(key) ? `${key}=[secret]` : pair;
    });
  return `${url.slice(0, q + 1)}${pairs.join('&')}`;
}

interface LoggedRequest {
  readonly method?: string;
  readonly url?: string;
  readonly host?: string;
  readonly ip?: string;
  readonly socket?: { readonly remotePort?: number } | null;
}

/**
 * The logger to give Fastify: its `req` serializer (Fastify's fields) logs the URL with the
 * credentials redacted, so that no request line (`disableRequestLogging: false`, an error logged
 * with its request) carries the API token or a ticket.
 */
export function redactCredentials(logger: Logger): Logger {
  return logger.child(
    {},
    {
      serializers: {
        req: (req: LoggedRequest) => ({
          method: req.method,
          url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
    },
  );
}
