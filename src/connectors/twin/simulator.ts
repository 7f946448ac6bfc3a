/**
 * A fake TWIN (PLATFORMS.md "TWIN", seed 002) for the tests, the demo and users without an
 * account: the live-events endpoint speaking Centrifugo's JSON client protocol (v2) over
 * WebSocket, and the IAM login endpoint — on one HTTP server.
 *
 * Verified against the official `centrifuge` client (simulator.test.ts). What it reproduces:
 * - `GET /centrifugo/connection/websocket` (upgrade): commands are JSON objects, several per frame
 *   separated by newlines; the replies to one frame go back in one frame, newline-separated.
 * - connect `{ id, connect: { data: { application: 'notifications', settings: { token } }, subs? } }`
 *   → `{ id, connect: { client, version, subs, ping, pong: true } }`; every connection is
 *   subscribed server-side to `channels`, each channel `recoverable` and `positioned` with
 *   `{ offset, epoch }` (offsets 1, 2, 3… per channel, one epoch per channel for the simulator's
 *   life).
 * - recovery: `subs[channel] = { recover: true, offset, epoch }` in the connect gets the missed
 *   publications in the reply (`recovered: true`, `was_recovering: true`) when the epoch matches
 *   (an empty epoch matches any, as in Centrifugo) and every one of them is still in history;
 *   otherwise `recovered: false` and none.
 * - pushes `{ push: { channel, pub: { data, offset } } }`; server pings `{}` every
 *   `pingIntervalMs`, the client answers `{}` (pong); no pong by the next ping → close 3012.
 * - `publish`, `rpc` and `send` from the client are recorded (`stats.received`, `inbound`) and
 *   answered `{ id, publish: {} }` / `{ id, rpc: { data: {} } }`; `history` is served from the
 *   channel's history (`since`, `limit`, `reverse`; a `since` that cannot be served → error 112).
 *
 * Codes (Centrifugo's, docs "Error and disconnect codes"); disconnects are WebSocket close frames
 * with the code and a plain-text reason, as Centrifugo sends them over WebSocket:
 * - unknown or missing token → close 3500 "invalid token" (terminal: the client stops, state
 *   `disconnected`, code 3500, no reconnect loop);
 * - expired token at connect → close 3005 "connection expired" (non-terminal: the client
 *   reconnects after its backoff and calls `getData` again, so it presents a fresh token). With
 *   `expiredTokenReply: 'error109'` the connect is answered `{ error: { code: 109, message: 'token
 *   expired' } }` instead, as Centrifugo does for an expired JWT: the official client then wants a
 *   new token from `getToken` and, without one, stops as `unauthorized` (code 1).
 * - the token of an open connection expires (or `expireTokens()`) → close 3005;
 * - malformed frames, a wrong `application`, commands before connect, a second connect → close
 *   3501 "bad request" (terminal);
 * - no pong → close 3012 "no pong"; no connect within 10 s → close 3502 "stale";
 * - `dropConnections()` destroys the sockets (the client sees a transport close, code 1, and
 *   reconnects); `dropConnections({ code, reason })` closes with that code: 3000–3499 and
 *   4000–4499 make the client reconnect, 3500–3999 and 4500–4999 stop it.
 *
 * IAM: `POST /api/v1/auth/login` with JSON `{ email, password, ttl? }` (ttl in seconds) → 200
 * `{ token }` for a user of `users`, with a lifetime of min(ttl, tokenTtlMs); 401 `{ message }` for
 * wrong credentials; 400 `{ message }` for a malformed body. Tokens are opaque strings.
 *
 * @example
 * const sim = new TwinSimulator({ users: { 'op@example.com': 'secret' } });
 * const { wsUrl, iamUrl } = await sim.start();
 * sim.publishScenario('handover');
 * await sim.close();
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { TWIN_SCENARIOS } from './scenarios.js';

// ─── public types ───────────────────────────────────────────────────────────────────────────────

export interface TwinSimulatorOptions {
  /** Valid IAM users: email → password. */
  users?: Record<string, string>;
  /** Token lifetime in ms (default 24 h); an expired token's connect is refused, and an open connection whose token expires is disconnected with a code that makes the client reconnect (so it must present a fresh token). */
  tokenTtlMs?: number;
  /** Channels the server subscribes every connection to (server-side subscriptions), default ['notifications']. */
  channels?: string[];
  /** Publications kept per channel for recovery (default 1000). */
  historySize?: number;
  /** Server ping interval ms (default 25000; client's maxServerPingDelay default 10000 is added on top). */
  pingIntervalMs?: number;
  /** How a connect with an expired token is refused: close 3005 (default; the client reconnects with fresh `getData`) or error 109 (Centrifugo's answer to an expired JWT). */
  expiredTokenReply?: 'disconnect' | 'error109';
  host?: string;
  port?: number;
}

export interface TwinSimulatorStats {
  connects: number;
  refusedConnects: number;
  logins: number;
  failedLogins: number;
  publications: number;
  /** Channel recoveries that succeeded / failed (one per channel per connect asking for recovery). */
  recovered: number;
  notRecovered: number;
  /** Connections dropped by `dropConnections`. */
  drops: number;
  /** Connections closed because their token expired (3005). */
  expired: number;
  /** Pongs received. */
  pongs: number;
  /** Client-sent publish / RPC / send data, e.g. the operator's typing. */
  received: unknown[];
}

/** One client-sent publish, rpc or send, with where it went. */
export interface TwinInbound {
  kind: 'publish' | 'rpc' | 'send';
  channel?: string;
  method?: string;
  data: unknown;
}

export interface TwinStreamPosition {
  offset: number;
  epoch: string;
}

// ─── internals ──────────────────────────────────────────────────────────────────────────────────

export const TWIN_WS_PATH = '/centrifugo/connection/websocket';
export const TWIN_LOGIN_PATH = '/api/v1/auth/login';
export const TWIN_SIM_VERSION = '5.x-sim';

/** Centrifugo disconnect codes the simulator uses. */
export const DISCONNECT = {
  expired: { code: 3005, reason: 'connection expired' },
  noPong: { code: 3012, reason: 'no pong' },
  invalidToken: { code: 3500, reason: 'invalid token' },
  badRequest: { code: 3501, reason: 'bad request' },
  stale: { code: 3502, reason: 'stale' },
  shutdown: { code: 3001, reason: 'shutdown' },
} as const;

/** Centrifugo client error codes the simulator uses. */
export const ERROR = {
  unknownChannel: { code: 102, message: 'unknown channel' },
  permissionDenied: { code: 103, message: 'permission denied' },
  methodNotFound: { code: 104, message: 'method not found' },
  alreadySubscribed: { code: 105, message: 'already subscribed' },
  badRequest: { code: 107, message: 'bad request' },
  notAvailable: { code: 108, message: 'not available' },
  tokenExpired: { code: 109, message: 'token expired' },
  unrecoverablePosition: { code: 112, message: 'unrecoverable position' },
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;
const STALE_MS = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_BODY = 64 * 1024;

interface Pub {
  offset: number;
  data: unknown;
}

interface Stream {
  epoch: string;
  offset: number;
  history: Pub[];
}

interface Conn {
  ws: WebSocket;
  state: 'new' | 'connected' | 'closed';
  client: string;
  token: string;
  expiryTimer: NodeJS.Timeout | undefined;
  pingTimer: NodeJS.Timeout | undefined;
  staleTimer: NodeJS.Timeout | undefined;
  awaitingPong: boolean;
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function rawText(raw: RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}

/** Thrown inside command handling: the connection is closed with this disconnect. */
class Disconnect extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export class TwinSimulator {
  readonly stats: TwinSimulatorStats = {
    connects: 0,
    refusedConnects: 0,
    logins: 0,
    failedLogins: 0,
    publications: 0,
    recovered: 0,
    notRecovered: 0,
    drops: 0,
    expired: 0,
    pongs: 0,
    received: [],
  };
  /** Every client-sent publish / rpc / send, in arrival order. */
  readonly inbound: TwinInbound[] = [];

  private readonly users: Record<string, string>;
  private readonly tokenTtlMs: number;
  private readonly channels: string[];
  private readonly historySize: number;
  private readonly pingIntervalMs: number;
  private readonly expiredTokenReply: 'disconnect' | 'error109';
  private readonly host: string;
  private readonly port: number;

  private readonly tokens = new Map<string, { expiresAt: number; email?: string }>();
  private readonly streams = new Map<string, Stream>();
  private readonly conns = new Set<Conn>();
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;

  constructor(o: TwinSimulatorOptions = {}) {
    this.users = { ...(o.users ?? {}) };
    this.tokenTtlMs = o.tokenTtlMs ?? DAY_MS;
    this.channels = [...(o.channels ?? ['notifications'])];
    this.historySize = Math.max(0, o.historySize ?? 1000);
    this.pingIntervalMs = o.pingIntervalMs ?? 25_000;
    this.expiredTokenReply = o.expiredTokenReply ?? 'disconnect';
    this.host = o.host ?? '127.0.0.1';
    this.port = o.port ?? 0;
    for (const ch of this.channels) this.stream(ch);
  }

  /** Open connections that completed their connect. */
  get connections(): number {
    let n = 0;
    for (const c of this.conns) if (c.state === 'connected') n++;
    return n;
  }

  async start(): Promise<{ wsUrl: string; iamUrl: string }> {
    if (this.server) throw new Error('TwinSimulator already started');
    const wss = new WebSocketServer({ noServer: true, handleProtocols: () => false });
    wss.on('connection', (ws: WebSocket) => this.onConnection(ws));
    const server = createServer((req, res) => void this.onHttp(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const path = new URL(req.url ?? '/', 'http://sim').pathname;
      if (path !== TWIN_WS_PATH) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    this.server = server;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { wsUrl: `ws://${host}:${addr.port}${TWIN_WS_PATH}`, iamUrl: `http://${host}:${addr.port}` };
  }

  async close(): Promise<void> {
    for (const c of [...this.conns]) this.closeConn(c);
    const wss = this.wss;
    const server = this.server;
    this.wss = undefined;
    this.server = undefined;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Issues a token directly (tests), valid for ttlMs (default tokenTtlMs); ttlMs ≤ 0 gives an already expired token. */
  issueToken(ttlMs?: number, email?: string): string {
    const token = `twin-sim.${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { expiresAt: Date.now() + (ttlMs ?? this.tokenTtlMs), ...(email === undefined ? {} : { email }) });
    return token;
  }

  /** Publishes TWIN data `{ event|action, data }` on a channel; returns its offset (1, 2, 3… per channel, with a stable epoch per channel). */
  publish(channel: string, data: unknown): number {
    const s = this.stream(channel);
    const offset = ++s.offset;
    s.history.push({ offset, data });
    if (s.history.length > this.historySize) s.history.splice(0, s.history.length - this.historySize);
    this.stats.publications++;
    if (this.channels.includes(channel)) {
      const frame = JSON.stringify({ push: { channel, pub: { data, offset } } });
      for (const c of this.conns) if (c.state === 'connected') this.sendRaw(c, frame);
    }
    return offset;
  }

  /** Publishes every publication of a scenario (scenarios.ts) on a channel (default the first of `channels`); returns their offsets. */
  publishScenario(name: string, channel: string = this.channels[0] ?? 'notifications'): number[] {
    const scenario = TWIN_SCENARIOS[name];
    if (!scenario) throw new Error(`no TWIN scenario "${name}"; available: ${Object.keys(TWIN_SCENARIOS).join(', ')}`);
    return scenario.publications().map((p) => this.publish(channel, p));
  }

  /** The channel's current stream top (offset of its last publication, 0 if none) and epoch. */
  streamPosition(channel: string): TwinStreamPosition {
    const s = this.stream(channel);
    return { offset: s.offset, epoch: s.epoch };
  }

  /** Drops every open connection abruptly (socket destroyed), or with a Centrifugo disconnect {code, reason}. */
  dropConnections(how?: { code?: number; reason?: string }): void {
    for (const c of [...this.conns]) {
      this.stats.drops++;
      if (how?.code !== undefined) this.closeConn(c, how.code, how.reason ?? '');
      else this.closeConn(c);
    }
  }

  /** Expire all tokens now (open connections get disconnected as on expiry). */
  expireTokens(): void {
    const now = Date.now();
    for (const t of this.tokens.values()) t.expiresAt = Math.min(t.expiresAt, now);
    for (const c of [...this.conns]) {
      if (c.state !== 'connected') continue;
      this.stats.expired++;
      this.closeConn(c, DISCONNECT.expired.code, DISCONNECT.expired.reason);
    }
  }

  /** Make history forget older publications so recovery fails (client gets recovered:false). */
  trimHistory(channel: string, keepLast: number): void {
    const s = this.stream(channel);
    const keep = Math.max(0, Math.floor(keepLast));
    if (s.history.length > keep) s.history.splice(0, s.history.length - keep);
  }

  // ─── streams ──────────────────────────────────────────────────────────────────────────────────

  private stream(channel: string): Stream {
    let s = this.streams.get(channel);
    if (!s) {
      s = { epoch: randomBytes(4).toString('hex'), offset: 0, history: [] };
      this.streams.set(channel, s);
    }
    return s;
  }

  /**
   * Publications after `offset` if the position can be served: the epoch matches (empty = any)
   * and history still holds every publication after it; `undefined` otherwise.
   */
  private since(s: Stream, offset: number, epoch: string): Pub[] | undefined {
    if (epoch !== '' && epoch !== s.epoch) return undefined;
    if (offset > s.offset || offset < 0) return undefined;
    if (offset === s.offset) return [];
    const first = s.history[0];
    if (!first || first.offset > offset + 1) return undefined;
    return s.history.filter((p) => p.offset > offset);
  }

  // ─── WebSocket ────────────────────────────────────────────────────────────────────────────────

  private onConnection(ws: WebSocket): void {
    const c: Conn = { ws, state: 'new', client: '', token: '', expiryTimer: undefined, pingTimer: undefined, staleTimer: undefined, awaitingPong: false };
    this.conns.add(c);
    c.staleTimer = setTimeout(() => {
      if (c.state === 'new') this.closeConn(c, DISCONNECT.stale.code, DISCONNECT.stale.reason);
    }, STALE_MS);
    c.staleTimer.unref();
    ws.on('message', (raw: RawData) => this.onFrame(c, rawText(raw)));
    ws.on('close', () => this.forget(c));
    ws.on('error', () => this.forget(c));
  }

  private onFrame(c: Conn, text: string): void {
    if (c.state === 'closed') return;
    const replies: string[] = [];
    try {
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        let cmd: unknown;
        try {
          cmd = JSON.parse(line);
        } catch {
          throw new Disconnect(DISCONNECT.badRequest.code, DISCONNECT.badRequest.reason);
        }
        if (!isObj(cmd)) throw new Disconnect(DISCONNECT.badRequest.code, DISCONNECT.badRequest.reason);
        const reply = this.onCommand(c, cmd);
        if (reply !== undefined) replies.push(JSON.stringify(reply));
        if (!this.conns.has(c)) return; // the command closed it
      }
    } catch (e) {
      if (!(e instanceof Disconnect)) throw e;
      if (replies.length > 0) this.sendRaw(c, replies.join('\n'));
      this.closeConn(c, e.code, e.reason);
      return;
    }
    if (replies.length > 0) this.sendRaw(c, replies.join('\n'));
  }

  /** Handles one command; returns its reply, if any. Throws Disconnect to close the connection. */
  private onCommand(c: Conn, cmd: Json): Json | undefined {
    const id = typeof cmd.id === 'number' ? cmd.id : 0;
    const methods = Object.keys(cmd).filter((k) => k !== 'id');
    // `{}` is the pong to a server ping.
    if (methods.length === 0) {
      if (id !== 0) throw new Disconnect(DISCONNECT.badRequest.code, DISCONNECT.badRequest.reason);
      c.awaitingPong = false;
      this.stats.pongs++;
      return undefined;
    }
    if ('connect' in cmd) return this.onConnect(c, id, cmd.connect);
    if (c.state !== 'connected') throw new Disconnect(DISCONNECT.badRequest.code, DISCONNECT.badRequest.reason);
    if ('send' in cmd) {
      const data = isObj(cmd.send) ? cmd.send.data : undefined;
      this.record({ kind: 'send', data });
      return undefined;
    }
    if (id <= 0) throw new Disconnect(DISCONNECT.badRequest.code, DISCONNECT.badRequest.reason);
    const err = (e: { code: number; message: string }): Json => ({ id, error: { code: e.code, message: e.message } });
    if ('publish' in cmd) {
      const p = cmd.publish;
      if (!isObj(p) || typeof p.channel !== 'string' || p.channel === '') return err(ERROR.badRequest);
      this.record({ kind: 'publish', channel: p.channel, data: p.data });
      return { id, publish: {} };
    }
    if ('rpc' in cmd) {
      const r = cmd.rpc;
      if (!isObj(r)) return err(ERROR.badRequest);
      this.record({ kind: 'rpc', ...(typeof r.method === 'string' ? { method: r.method } : {}), data: r.data });
      return { id, rpc: { data: {} } };
    }
    if ('history' in cmd) return this.onHistory(id, cmd.history);
    if ('subscribe' in cmd) {
      const ch = isObj(cmd.subscribe) ? cmd.subscribe.channel : undefined;
      return err(typeof ch === 'string' && this.channels.includes(ch) ? ERROR.alreadySubscribed : ERROR.permissionDenied);
    }
    if ('presence' in cmd || 'presence_stats' in cmd) return err(ERROR.notAvailable);
    return err(ERROR.methodNotFound);
  }

  private record(entry: TwinInbound): void {
    this.inbound.push(entry);
    this.stats.received.push(entry.data);
  }

  private onConnect(c: Conn, id: number, req: unknown): Json {
    const refuse = (d: { code: number; reason: string }): never => {
      this.stats.refusedConnects++;
      throw new Disconnect(d.code, d.reason);
    };
    if (c.state !== 'new' || id <= 0 || !isObj(req)) return refuse(DISCONNECT.badRequest);
    const data = req.data;
    if (isObj(data) && data.application !== undefined && data.application !== 'notifications') return refuse(DISCONNECT.badRequest);
    const settings = isObj(data) ? data.settings : undefined;
    const token = isObj(settings) && typeof settings.token === 'string' ? settings.token : '';
    const known = this.tokens.get(token);
    if (!known) return refuse(DISCONNECT.invalidToken);
    const now = Date.now();
    if (known.expiresAt <= now) {
      if (this.expiredTokenReply === 'error109') {
        this.stats.refusedConnects++;
        return { id, error: { code: ERROR.tokenExpired.code, message: ERROR.tokenExpired.message } };
      }
      return refuse(DISCONNECT.expired);
    }

    const asked = isObj(req.subs) ? req.subs : {};
    const subs: Json = {};
    for (const channel of this.channels) {
      const s = this.stream(channel);
      const sub: Json = { recoverable: true, positioned: true, offset: s.offset, epoch: s.epoch };
      const r = asked[channel];
      if (isObj(r) && r.recover === true) {
        const offset = typeof r.offset === 'number' ? r.offset : 0;
        const epoch = typeof r.epoch === 'string' ? r.epoch : '';
        const pubs = this.since(s, offset, epoch);
        sub.was_recovering = true;
        if (pubs) {
          sub.recovered = true;
          if (pubs.length > 0) sub.publications = pubs.map((p) => ({ data: p.data, offset: p.offset }));
          this.stats.recovered++;
        } else {
          sub.recovered = false;
          this.stats.notRecovered++;
        }
      }
      subs[channel] = sub;
    }

    c.state = 'connected';
    c.client = randomUUID();
    c.token = token;
    clearTimeout(c.staleTimer);
    c.staleTimer = undefined;
    this.stats.connects++;

    c.expiryTimer = setTimeout(() => this.onTokenExpiry(c), Math.min(MAX_TIMER_MS, known.expiresAt - now));
    c.expiryTimer.unref();
    if (this.pingIntervalMs > 0) {
      c.pingTimer = setInterval(() => this.ping(c), this.pingIntervalMs);
      c.pingTimer.unref();
    }
    return { id, connect: { client: c.client, version: TWIN_SIM_VERSION, subs, ping: this.pingIntervalMs / 1000, pong: true } };
  }

  private onTokenExpiry(c: Conn): void {
    if (c.state !== 'connected') return;
    const t = this.tokens.get(c.token);
    if (t && t.expiresAt > Date.now()) {
      c.expiryTimer = setTimeout(() => this.onTokenExpiry(c), Math.min(MAX_TIMER_MS, t.expiresAt - Date.now()));
      c.expiryTimer.unref();
      return;
    }
    this.stats.expired++;
    this.closeConn(c, DISCONNECT.expired.code, DISCONNECT.expired.reason);
  }

  private ping(c: Conn): void {
    if (c.state !== 'connected') return;
    if (c.awaitingPong) {
      this.closeConn(c, DISCONNECT.noPong.code, DISCONNECT.noPong.reason);
      return;
    }
    c.awaitingPong = true;
    this.sendRaw(c, '{}');
  }

  private onHistory(id: number, req: unknown): Json {
    const err = (e: { code: number; message: string }): Json => ({ id, error: { code: e.code, message: e.message } });
    if (!isObj(req) || typeof req.channel !== 'string') return err(ERROR.badRequest);
    if (!this.streams.has(req.channel)) return err(ERROR.unknownChannel);
    const s = this.stream(req.channel);
    let pubs: Pub[];
    if (isObj(req.since)) {
      const offset = typeof req.since.offset === 'number' ? req.since.offset : 0;
      const epoch = typeof req.since.epoch === 'string' ? req.since.epoch : '';
      const found = this.since(s, offset, epoch);
      if (!found) return err(ERROR.unrecoverablePosition);
      pubs = found;
    } else {
      pubs = [...s.history];
    }
    if (req.reverse === true) pubs = [...pubs].reverse();
    // Centrifugo: no limit (or 0) → only the stream position; a negative limit → everything.
    const limit = typeof req.limit === 'number' ? req.limit : 0;
    if (limit >= 0) pubs = pubs.slice(0, limit);
    return { id, history: { publications: pubs.map((p) => ({ data: p.data, offset: p.offset })), epoch: s.epoch, offset: s.offset } };
  }

  private sendRaw(c: Conn, frame: string): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(frame);
  }

  /** Closes with a Centrifugo disconnect (close frame with code and reason), or destroys the socket without a code. */
  private closeConn(c: Conn, code?: number, reason = ''): void {
    if (c.state === 'closed') return;
    this.forget(c);
    if (code === undefined) c.ws.terminate();
    else c.ws.close(code, reason);
  }

  private forget(c: Conn): void {
    c.state = 'closed';
    clearTimeout(c.expiryTimer);
    clearTimeout(c.staleTimer);
    clearInterval(c.pingTimer);
    this.conns.delete(c);
  }

  // ─── IAM ──────────────────────────────────────────────────────────────────────────────────────

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    if (path !== TWIN_LOGIN_PATH) return json(res, 404, { message: 'Not found' });
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return json(res, 405, { message: 'Method not allowed' });
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      this.stats.failedLogins++;
      return json(res, 400, { message: 'Malformed JSON body' });
    }
    const ttl = isObj(body) ? body.ttl : undefined;
    if (!isObj(body) || typeof body.email !== 'string' || typeof body.password !== 'string' || (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0))) {
      this.stats.failedLogins++;
      return json(res, 400, { message: 'Expected { email: string, password: string, ttl?: positive number of seconds }' });
    }
    const expected = Object.prototype.hasOwnProperty.call(this.users, body.email) ? this.users[body.email] : undefined;
    if (expected === undefined || expected !== body.password) {
      this.stats.failedLogins++;
      return json(res, 401, { message: 'Invalid email or password' });
    }
    this.stats.logins++;
    const ttlMs = typeof ttl === 'number' ? Math.min(ttl * 1000, this.tokenTtlMs) : this.tokenTtlMs;
    return json(res, 200, { token: this.issueToken(ttlMs, body.email) });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
