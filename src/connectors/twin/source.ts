/**
 * TWIN live events over Centrifugo with the official `centrifuge` client.
 *
 * - The token travels in the connect `data` ({ application: 'notifications', settings: { token } }),
 *   supplied fresh by `getData` on every (re)connect.
 * - Subscriptions are server-side. Publications are buffered and handed to the runtime in
 *   batches; the batch's cursor holds each channel's stream position (offset, epoch), saved in
 *   the same transaction as the events.
 * - Within a run the client reconnects by itself with jittered backoff (the runtime's delays) and
 *   recovers missed publications. Across runs the saved positions are handed to the new client,
 *   so that it asks for recovery too. When the server says it could not recover — or a stream's
 *   position moved past the saved one without recovery — `connector.gap-detected` is reported.
 * - A refused token (connect error, disconnect code) renews an IAM token, or, for a static token,
 *   reports `SB_ERR_CONNECTOR_AUTH` so that the runtime backs off.
 */
import { Centrifuge, type DisconnectedContext, type ErrorContext, type ServerPublicationContext, type ServerSubscribedContext } from 'centrifuge';
import WebSocket from 'ws';
import { RetryableError, SwitchboardError, isRecord } from '../../core/index.js';
import type { Source, SourceBatch, SourceContext } from '../types.js';
import type { TwinSettings } from './settings.js';
import { REFRESH_BEFORE_MS, TwinTokens } from './tokens.js';

export const DEFAULT_TWIN_URL = 'wss://twin24.ai/centrifugo/connection/websocket';

/** A publication as the normalizer receives it. */
export interface TwinPublication {
  readonly channel: string;
  readonly offset?: number;
  /** The stream's epoch: offsets restart with a new one, so it is part of the dedupe key. */
  readonly epoch?: string;
  readonly data: unknown;
}

type Positions = Record<string, { offset: number; epoch: string }>;

/** The buffer keeps publications and position resets in arrival order, so that a batch's cursor never runs ahead of its events. */
type Buffered = { readonly pub: TwinPublication } | { readonly reset: { channel: string; offset: number; epoch: string } };

function parsePositions(cursor: string | undefined): Positions {
  if (!cursor) return {};
  try {
    const parsed = JSON.parse(cursor) as unknown;
    if (!isRecord(parsed)) return {};
    const out: Positions = {};
    for (const [channel, p] of Object.entries(parsed)) {
      if (isRecord(p) && typeof p.offset === 'number' && typeof p.epoch === 'string') out[channel] = { offset: p.offset, epoch: p.epoch };
    }
    return out;
  } catch {
    return {};
  }
}

/** Disconnect codes after which the client stops: the server refused the connection for good. */
function isAuthDisconnect(code: number): boolean {
  return code === 3500 || code === 3501 || code === 3503 || (code >= 4500 && code < 5000);
}

export class TwinSource implements Source {
  readonly reportsConnected = true;
  private client: Centrifuge | undefined;
  private readonly buffer: Buffered[] = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly positions: Positions;
  private readonly epochs = new Map<string, string>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private connectFailures = 0;
  private readonly tokens: TwinTokens;

  constructor(
    private readonly ctx: SourceContext<TwinSettings>,
    tokens?: TwinTokens,
  ) {
    this.positions = parsePositions(ctx.cursor);
    this.tokens = tokens ?? new TwinTokens(ctx.settings.auth);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    if (!this.tokens.renewable) return;
    // Renew ahead of expiry, so that the next reconnect presents a valid token at once.
    const at = this.tokens.expiresAt - REFRESH_BEFORE_MS;
    this.refreshTimer = setTimeout(() => {
      this.tokens.invalidate();
      this.tokens.current().then(() => this.scheduleRefresh(), (err: unknown) => this.fail(err as Error));
    }, Math.max(1000, at - Date.now()));
    this.refreshTimer.unref();
  }

  async connect(signal: AbortSignal): Promise<void> {
    // A bad password fails here, before any socket: the runtime reports auth-failed and backs off.
    await this.tokens.current(signal);
    this.scheduleRefresh();
    const s = this.ctx.settings;
    const client = new Centrifuge(s.url ?? DEFAULT_TWIN_URL, {
      websocket: WebSocket,
      getData: async () => ({ application: 'notifications', settings: { token: await this.tokens.current() } }),
      // The token travels in `data`; without a getToken the client stops on "token expired"
      // (109) instead of reconnecting, so give it one that asks for nothing.
      getToken: async () => '',
      minReconnectDelay: s.reconnect?.minDelayMs ?? 500,
      maxReconnectDelay: s.reconnect?.maxDelayMs ?? 20_000,
      timeout: s.timeoutMs ?? 10_000,
      name: 'switchboard',
    });
    this.seedPositions(client);
    client.on('connected', (c) => this.ctx.signal({ kind: 'connected', detail: `client ${c.client} via ${c.transport}` }));
    client.on('disconnected', (c: DisconnectedContext) => this.onDisconnected(c));
    client.on('error', (c: ErrorContext) => this.onError(c));
    client.on('connecting', (c) => {
      // 3005: the connection expired with its token; present a new one on the reconnect.
      if (c.code === 3005 && this.tokens.renewable) this.tokens.invalidate();
    });
    client.on('connected', () => {
      this.connectFailures = 0;
    });
    client.on('subscribed', (c: ServerSubscribedContext) => this.onSubscribed(c));
    client.on('publication', (c: ServerPublicationContext) => this.onPublication(c));
    this.client = client;
    client.connect();
  }

  /** Hands the positions saved by an earlier run to the new client, so that its first connect asks for recovery. */
  private seedPositions(client: Centrifuge): void {
    const internal = client as unknown as { _serverSubs?: unknown };
    if (!isRecord(internal._serverSubs)) return;
    const subs = internal._serverSubs;
    for (const [channel, p] of Object.entries(this.positions)) subs[channel] = { offset: p.offset, epoch: p.epoch, recoverable: true, subscribed: false };
  }

  private onSubscribed(c: ServerSubscribedContext): void {
    const saved = this.positions[c.channel];
    const now = c.streamPosition;
    if (now) this.epochs.set(c.channel, now.epoch);
    if (c.wasRecovering && !c.recovered) {
      this.ctx.signal({ kind: 'gap', stream: c.channel, from: saved ? String(saved.offset) : undefined, to: now ? String(now.offset) : undefined, reason: 'the server could not recover the missed publications' });
    } else if (!c.wasRecovering && saved && now && (now.epoch !== saved.epoch || now.offset > saved.offset)) {
      this.ctx.signal({ kind: 'gap', stream: c.channel, from: String(saved.offset), to: String(now.offset), reason: now.epoch !== saved.epoch ? 'the stream was reset (new epoch)' : 'publications were missed and not recovered' });
    }
    // Without recovery, continue from the server's position (after the events before it).
    if (now && (!c.wasRecovering || !c.recovered)) {
      this.buffer.push({ reset: { channel: c.channel, offset: now.offset, epoch: now.epoch } });
      this.notify();
    }
  }

  private onPublication(c: ServerPublicationContext): void {
    const epoch = this.epochs.get(c.channel) ?? this.positions[c.channel]?.epoch;
    const pub: TwinPublication = c.offset === undefined ? { channel: c.channel, data: c.data as unknown } : { channel: c.channel, offset: c.offset, ...(epoch ? { epoch } : {}), data: c.data as unknown };
    this.buffer.push({ pub });
    const max = this.ctx.settings.maxBuffered ?? 10_000;
    // Backpressure: stop reading from the socket; the reconnect after the drain recovers the rest.
    if (this.buffer.length >= max && !this.paused) {
      this.paused = true;
      this.client?.disconnect();
    }
    this.notify();
  }

  private onDisconnected(c: DisconnectedContext): void {
    if (this.paused) return;
    this.ctx.signal({ kind: 'disconnected', reason: `${c.code}: ${c.reason}` });
    if (isAuthDisconnect(c.code)) this.onRefused(`the server closed the connection with code ${c.code} (${c.reason})`);
    else this.fail(new RetryableError(`the server closed the connection for good (${c.code}: ${c.reason})`));
  }

  private onError(c: ErrorContext): void {
    const code = (c.error as { code?: number }).code;
    // A refused reconnect hides its close code (the client reports 11, "connection closed"); after
    // two in a row, log in again in case the token is what the server refuses.
    if (c.type === 'connect' && code === 11 && ++this.connectFailures >= 2 && this.tokens.renewable) this.tokens.invalidate();
    // 109: token expired; 401/403: refused — renew an IAM token; the client reconnects with it.
    if (c.type === 'connect' && (code === 109 || code === 401 || code === 403)) {
      if (this.tokens.renewable) this.tokens.invalidate();
      else this.onRefused(`the server refused the token (${code}: ${c.error.message})`);
    }
  }

  private onRefused(reason: string): void {
    if (this.tokens.renewable) {
      this.tokens.invalidate();
      this.fail(new RetryableError(`${reason}; logging in again`));
    } else {
      this.fail(new SwitchboardError('SB_ERR_CONNECTOR_AUTH', `${reason}; check auth.token`));
    }
  }

  async read(signal: AbortSignal): Promise<SourceBatch | null> {
    while (this.buffer.length === 0 && !this.failure && !signal.aborted) {
      // The runtime's signal lives as long as the connector: remove the listener after every wait.
      let onAbort: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        onAbort = () => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
    if (this.buffer.length === 0 && this.failure) throw this.failure;
    if (this.buffer.length === 0) return null;
    const items: TwinPublication[] = [];
    for (const entry of this.buffer.splice(0, 1000)) {
      if ('reset' in entry) {
        this.positions[entry.reset.channel] = { offset: entry.reset.offset, epoch: entry.reset.epoch };
        continue;
      }
      items.push(entry.pub);
      const previous = this.positions[entry.pub.channel];
      if (entry.pub.offset !== undefined) this.positions[entry.pub.channel] = { offset: entry.pub.offset, epoch: entry.pub.epoch ?? previous?.epoch ?? '' };
    }
    if (this.paused && this.buffer.length === 0) {
      this.paused = false;
      this.client?.connect();
    }
    return { items, cursor: JSON.stringify(this.positions) };
  }

  /** Sends the operator's outbound events (`typing`) through the open connection. */
  async command(name: string, args: unknown): Promise<unknown> {
    if (name !== 'typing') throw new SwitchboardError('SB_ERR_NOT_FOUND', `TWIN has no command "${name}"; known: typing`);
    if (!isRecord(args)) throw new SwitchboardError('SB_ERR_QUERY_INVALID', 'typing: expected { chatId, ... }');
    const client = this.client;
    if (!client) throw new RetryableError('not connected');
    const channel = this.ctx.settings.outbound?.channel ?? 'notifications';
    const payload = { event: 'typing', data: args };
    if ((this.ctx.settings.outbound?.method ?? 'publish') === 'rpc') return (await client.rpc('typing', payload)).data as unknown;
    await client.publish(channel, payload);
    return { sent: true };
  }

  async close(): Promise<void> {
    clearTimeout(this.refreshTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners();
    client.disconnect();
  }
}
