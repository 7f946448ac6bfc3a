/**
 * A fake GREEN-API (PLATFORMS.md "GREEN-API", DESIGN §6) for the tests, the demo and users without
 * an account: the HTTP API's notification queue (`receiveNotification` / `deleteNotification`),
 * `getContactInfo`, seeded fault injection, and a webhook sender that delivers the way GREEN-API
 * does.
 *
 * What it reproduces:
 * - one FIFO queue per instance; `receiveNotification` answers the HEAD without removing it, so a
 *   notification that is not deleted comes back (redelivery); on an empty queue it long-polls up
 *   to `receiveTimeout` seconds (5..60, default 5) and answers JSON `null`;
 * - `deleteNotification` removes a receipt wherever it is in the queue → `{ result: true }`, else
 *   `{ result: false }`;
 * - receipt ids are increasing integers per instance;
 * - wrong `idInstance` or `apiTokenInstance` → 401;
 * - limits per instance: 100 requests/s for each of receive and delete, one `getContactInfo` per
 *   second; over the limit → 429 with `Retry-After`;
 * - faults (500/502/503, 429, 466, dropped connections, slow answers, an empty answer while the
 *   queue is not empty), decided per request by a seeded RNG; faults never lose or reorder the
 *   queue (a faulted request does nothing to it).
 * Notifications are not expired after 24 h.
 *
 * @example
 * const sim = new GreenApiSimulator({ instances: [{ idInstance: '1101000001', apiTokenInstance: 'token' }] });
 * const apiUrl = await sim.start();
 * sim.enqueueScenario('1101000001', 'answered-call');
 * // GET  `${apiUrl}/waInstance1101000001/receiveNotification/token?receiveTimeout=5`
 * // DELETE `${apiUrl}/waInstance1101000001/deleteNotification/token/1`
 * await sim.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { SCENARIOS } from './scenarios.js';
import { seededRandom } from '../../core/index.js';

// ─── public types ───────────────────────────────────────────────────────────────────────────────

export interface GreenApiFaults {
  /** Probability 0..1 that a request answers 500/502/503. */
  serverError?: number;
  /** Probability that a request answers 429 (with Retry-After: 1). */
  tooManyRequests?: number;
  /** Probability that a request answers 466 (quota on developer plans). */
  quotaExceeded?: number;
  /** Probability that the connection is destroyed without an answer. */
  dropConnection?: number;
  /** Probability that an answer is delayed by slowMs. */
  slow?: number;
  /** The delay of a slow answer (default 1000 ms). */
  slowMs?: number;
  /** Probability that receiveNotification answers 200 null although the queue is not empty (a known field problem). */
  emptyAnswer?: number;
  /** Seeded RNG so runs repeat (default 1). */
  seed?: number;
}

export interface GreenApiLimits {
  /** Requests per second per instance for each of receiveNotification and deleteNotification (GREEN-API: 100); 0 turns the limit off. */
  requestsPerSecond?: number;
  /** Minimum milliseconds between two getContactInfo calls of an instance (GREEN-API: 1000); 0 turns the limit off. */
  contactInfoIntervalMs?: number;
}

export interface SimulatorInstance {
  idInstance: string;
  apiTokenInstance: string;
  /** The instance's own WhatsApp id (default `79876543210@c.us`); used by `enqueueScenario`. */
  wid?: string;
}

export interface SimulatorOptions {
  instances: SimulatorInstance[];
  faults?: GreenApiFaults;
  /**
   * Called on every deleteNotification that finds its receipt, BEFORE it is removed; return false to
   * record a violation (e.g. the event was not committed yet). A throw counts as a violation too.
   * The notification is removed either way. For a raw body that is not a JSON object, `body` is
   * `{ rawBody: <the text> }`.
   */
  verifyDelete?: (idInstance: string, body: Record<string, unknown>) => boolean | Promise<boolean>;
  /** Contact book for getContactInfo: chatId → { name?, contactName? }; unknown chatIds answer name "" contactName "". */
  contacts?: Record<string, { name?: string; contactName?: string; avatar?: string }>;
  /** Rate limits (defaults: GREEN-API's documented ones). */
  limits?: GreenApiLimits;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
}

export interface SimulatorStats {
  /** receiveNotification requests that passed authentication (faulted and rate-limited ones included). */
  receive: number;
  /** deleteNotification calls that removed a notification (`result: true`). */
  delete: number;
  /** deleteNotification calls whose receipt was not in the queue (`result: false`). */
  deleteUnknown: number;
  /** Injected faults by kind: serverError, tooManyRequests, quotaExceeded, dropConnection, slow, emptyAnswer. */
  faults: Record<string, number>;
  /** verifyDelete answers false (or threw). */
  violations: number;
  /** Every authenticated getContactInfo call, with `Date.now()` at its arrival. */
  contactInfoCalls: { idInstance: string; chatId: string; at: number }[];
  /** receiveNotification answers (200) that carried a notification, redeliveries included. */
  deliveries: number;
  /** Requests answered 401 (unknown idInstance or wrong apiTokenInstance). */
  unauthorized: number;
  /** Requests answered 429 because a documented rate limit was exceeded (not injected faults). */
  rateLimited: number;
  /** Requests answered 400 (bad receiveTimeout, receiptId or body). */
  badRequests: number;
}

// ─── internals ──────────────────────────────────────────────────────────────────────────────────

interface QueueItem {
  receiptId: number;
  /** The JSON text spliced in as `body`. */
  raw: string;
  /** What verifyDelete receives. */
  body: Record<string, unknown>;
}

interface InstanceState {
  idInstance: string;
  token: string;
  wid: string;
  queue: QueueItem[];
  nextReceiptId: number;
  /** Long-polls waiting for an enqueue. */
  waiters: Set<() => void>;
  /** Arrival times of accepted requests in the last second, by route. */
  window: Record<'receive' | 'delete', number[]>;
  lastContactInfoAt: number | undefined;
}

type Route = 'receive' | 'delete' | 'contactInfo';
type FaultKind = 'serverError' | 'tooManyRequests' | 'quotaExceeded' | 'dropConnection';

interface FaultDecision {
  kind: FaultKind | undefined;
  slow: boolean;
  empty: boolean;
  serverStatus: 500 | 502 | 503;
}

const DEFAULT_WID = '79876543210@c.us';
const ROUTE = /^\/waInstance([^/]+)\/([A-Za-z]+)\/([^/]+)(?:\/([^/]+))?\/?$/;
const VERBS: Record<Route, string> = { receive: 'GET', delete: 'DELETE', contactInfo: 'POST' };
const METHODS: Record<string, Route> = {
  receivenotification: 'receive',
  deletenotification: 'delete',
  getcontactinfo: 'contactInfo',
};
const MAX_BODY = 1 << 20;


function prob(p: number | undefined): number {
  return typeof p === 'number' && Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, JSON.stringify(body), 'application/json', headers);
}

function sendText(res: ServerResponse, status: number, text: string, contentType: string, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  const buf = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(buf.length), ...headers });
  res.end(buf);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(undefined));
    req.on('aborted', () => resolve(undefined));
  });
}

// ─── the simulator ──────────────────────────────────────────────────────────────────────────────

/**
 * The fake GREEN-API HTTP server. `start()` gives the `apiUrl`.
 */
export class GreenApiSimulator {
  readonly stats: SimulatorStats = {
    receive: 0,
    delete: 0,
    deleteUnknown: 0,
    faults: {},
    violations: 0,
    contactInfoCalls: [],
    deliveries: 0,
    unauthorized: 0,
    rateLimited: 0,
    badRequests: 0,
  };

  private readonly instances = new Map<string, InstanceState>();
  private readonly options: SimulatorOptions;
  private faults: GreenApiFaults;
  private rng: () => number;
  private server: Server | undefined;
  private baseUrl: string | undefined;
  private closed = false;
  /** Pending delays (slow answers), ended early by close(). */
  private readonly sleeps = new Set<() => void>();

  constructor(options: SimulatorOptions) {
    this.options = options;
    for (const i of options.instances) {
      if (this.instances.has(i.idInstance)) throw new Error(`GreenApiSimulator: duplicate idInstance ${i.idInstance}`);
      this.instances.set(i.idInstance, {
        idInstance: i.idInstance,
        token: i.apiTokenInstance,
        wid: i.wid ?? DEFAULT_WID,
        queue: [],
        nextReceiptId: 1,
        waiters: new Set(),
        window: { receive: [], delete: [] },
        lastContactInfoAt: undefined,
      });
    }
    this.faults = { ...(options.faults ?? {}) };
    this.rng = seededRandom(this.faults.seed ?? 1);
  }

  /** Listens; resolves with the base URL (the `apiUrl`), e.g. `http://127.0.0.1:40123`. */
  async start(): Promise<string> {
    if (this.server) throw new Error('GreenApiSimulator: already started');
    if (this.closed) throw new Error('GreenApiSimulator: closed');
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
        else res.destroy();
      });
    });
    this.server = server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this.baseUrl;
  }

  /** The base URL once started. */
  get url(): string | undefined {
    return this.baseUrl;
  }

  /** Answers pending long-polls with `null`, ends slow delays, closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const inst of this.instances.values()) for (const wake of [...inst.waiters]) wake();
    for (const end of [...this.sleeps]) end();
    const server = this.server;
    if (!server) return;
    // Let the woken handlers write their answers before the sockets go.
    await new Promise((r) => setImmediate(r));
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Appends a notification to an instance's FIFO queue; returns its receiptId (increasing integers per instance). */
  enqueue(idInstance: string, body: Record<string, unknown>): number {
    return this.push(idInstance, JSON.stringify(body), structuredClone(body));
  }

  /**
   * Appends a notification given as JSON text, spliced as is into the answer's `body` (for malformed
   * bodies: broken shapes, wrong types). The text must be one JSON value for the answer to stay
   * JSON; anything else gives a broken answer, which may be the point.
   */
  enqueueRaw(idInstance: string, rawBodyJson: string): number {
    let body: Record<string, unknown> = { rawBody: rawBodyJson };
    try {
      const parsed: unknown = JSON.parse(rawBodyJson);
      if (isObject(parsed)) body = parsed;
    } catch {
      // not JSON: verifyDelete gets { rawBody }
    }
    return this.push(idInstance, rawBodyJson, body);
  }

  /**
   * Enqueues a scenario of `scenarios.ts` with the instance's wid; returns the receiptIds.
   *
   * @example sim.enqueueScenario('1101000001', 'missed-call')
   */
  enqueueScenario(idInstance: string, scenario: string, now: number = Date.now()): number[] {
    const s = SCENARIOS[scenario];
    if (!s) throw new Error(`GreenApiSimulator: unknown scenario ${scenario} (known: ${Object.keys(SCENARIOS).join(', ')})`);
    const inst = this.instance(idInstance);
    return s.notifications({ idInstance, wid: inst.wid, now }).map((b) => this.enqueue(idInstance, b));
  }

  queueLength(idInstance: string): number {
    return this.instance(idInstance).queue.length;
  }

  /** Copies of the notifications still queued, oldest first. */
  queued(idInstance: string): { receiptId: number; body: Record<string, unknown> }[] {
    return this.instance(idInstance).queue.map((i) => ({ receiptId: i.receiptId, body: structuredClone(i.body) }));
  }

  /** Replaces the fault settings; a `seed` in them restarts the RNG, else the sequence continues. */
  setFaults(f: GreenApiFaults): void {
    this.faults = { ...f };
    if (f.seed !== undefined) this.rng = seededRandom(f.seed);
  }

  // ─── internals ────────────────────────────────────────────────────────────────────────────────

  private instance(idInstance: string): InstanceState {
    const inst = this.instances.get(idInstance);
    if (!inst) throw new Error(`GreenApiSimulator: unknown idInstance ${idInstance}`);
    return inst;
  }

  private push(idInstance: string, raw: string, body: Record<string, unknown>): number {
    const inst = this.instance(idInstance);
    const receiptId = inst.nextReceiptId++;
    inst.queue.push({ receiptId, raw, body });
    for (const wake of [...inst.waiters]) wake();
    return receiptId;
  }

  private countFault(kind: string): void {
    this.stats.faults[kind] = (this.stats.faults[kind] ?? 0) + 1;
  }

  /** Three draws per request, always, so that a run repeats whatever the queue holds. */
  private decideFaults(): FaultDecision {
    const f = this.faults;
    const u = this.rng();
    const uSlow = this.rng();
    const uEmpty = this.rng();
    let kind: FaultKind | undefined;
    let edge = 0;
    for (const k of ['dropConnection', 'serverError', 'tooManyRequests', 'quotaExceeded'] as const) {
      edge += prob(f[k]);
      if (u < edge) {
        kind = k;
        break;
      }
    }
    const statuses = [500, 502, 503] as const;
    return {
      kind,
      slow: uSlow < prob(f.slow),
      empty: uEmpty < prob(f.emptyAnswer),
      serverStatus: statuses[Math.floor(((u * 1e6) % 1) * 3)] ?? 500,
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.sleeps.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.sleeps.add(end);
    });
  }

  /** Sliding one-second window; true when the request may pass (and is counted). */
  private withinRate(inst: InstanceState, route: 'receive' | 'delete'): boolean {
    const limit = this.options.limits?.requestsPerSecond ?? 100;
    if (!limit) return true;
    const now = Date.now();
    const w = inst.window[route];
    while (w.length && now - (w[0] ?? 0) >= 1000) w.shift();
    if (w.length >= limit) return false;
    w.push(now);
    return true;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const m = ROUTE.exec(url.pathname);
    const route = m ? METHODS[(m[2] ?? '').toLowerCase()] : undefined;
    if (!m || !route) {
      sendJson(res, 404, { message: 'Not Found' });
      return;
    }
    const idInstance = decodeURIComponent(m[1] ?? '');
    const token = decodeURIComponent(m[3] ?? '');
    const extra = m[4];
    if (req.method !== VERBS[route] || (route === 'delete') !== (extra !== undefined)) {
      sendJson(res, route === 'delete' && extra === undefined ? 404 : 405, { message: req.method !== VERBS[route] ? 'Method Not Allowed' : 'Not Found' }, { Allow: VERBS[route] });
      return;
    }
    const inst = this.instances.get(idInstance);
    if (!inst || inst.token !== token) {
      this.stats.unauthorized++;
      sendJson(res, 401, { message: 'Unauthorized' });
      return;
    }

    switch (route) {
      case 'receive':
        return this.receive(inst, url, req, res);
      case 'delete':
        return this.remove(inst, extra ?? '', req, res);
      case 'contactInfo':
        return this.contactInfo(inst, req, res);
    }
  }

  /** Applies a decided fault; true when the request was answered (or dropped) by it. */
  private async applyFault(d: FaultDecision, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (d.slow) {
      this.countFault('slow');
      await this.sleep(this.faults.slowMs ?? 1000);
    }
    switch (d.kind) {
      case undefined:
        return false;
      case 'dropConnection':
        this.countFault('dropConnection');
        req.socket.destroy();
        return true;
      case 'serverError':
        this.countFault('serverError');
        if (d.serverStatus === 500) sendJson(res, 500, { message: 'Internal Server Error' });
        else
          sendText(
            res,
            d.serverStatus,
            `<html>\r\n<head><title>${d.serverStatus} ${d.serverStatus === 502 ? 'Bad Gateway' : 'Service Temporarily Unavailable'}</title></head>\r\n<body>\r\n<center><h1>${d.serverStatus}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
            'text/html',
          );
        return true;
      case 'tooManyRequests':
        this.countFault('tooManyRequests');
        sendJson(res, 429, { message: 'Too Many Requests' }, { 'Retry-After': '1' });
        return true;
      case 'quotaExceeded':
        this.countFault('quotaExceeded');
        sendJson(res, 466, {
          invokeStatus: {
            method: 'receiveNotification',
            used: 0,
            total: 0,
            status: 'QUOTE_EXCEEDED',
            description: 'Monthly quota has been exceeded. Please go to your personal account and change the tariff to business https://console.green-api.com',
          },
        });
        return true;
    }
  }

  private badRequest(res: ServerResponse, message: string): void {
    this.stats.badRequests++;
    sendJson(res, 400, { message: `Validation failed. Details: ${message}` });
  }

  private tooMany(res: ServerResponse, retryAfterMs: number): void {
    this.stats.rateLimited++;
    sendJson(res, 429, { message: 'Too Many Requests' }, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });
  }

  private async receive(inst: InstanceState, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.receive++;
    const rt = url.searchParams.get('receiveTimeout');
    const timeoutSec = rt === null || rt === '' ? 5 : Number(rt);
    if (!Number.isFinite(timeoutSec) || timeoutSec < 5 || timeoutSec > 60) {
      this.badRequest(res, '"receiveTimeout" must be a number from 5 to 60');
      return;
    }
    if (!this.withinRate(inst, 'receive')) {
      this.tooMany(res, 1000);
      return;
    }
    const d = this.decideFaults();
    if (await this.applyFault(d, req, res)) return;

    if (inst.queue.length === 0 && !this.closed) {
      // Long poll: wait for an enqueue, the timeout, the client going away or close().
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          inst.waiters.delete(wake);
          res.off('close', wake);
          resolve();
        };
        const timer = setTimeout(wake, timeoutSec * 1000);
        inst.waiters.add(wake);
        res.on('close', wake);
      });
    } else if (d.empty) {
      this.countFault('emptyAnswer');
      sendJson(res, 200, null);
      return;
    }
    const head = inst.queue[0];
    if (!head || this.closed) {
      sendJson(res, 200, null);
      return;
    }
    if (res.destroyed || res.writableEnded) return;
    this.stats.deliveries++;
    sendText(res, 200, `{"receiptId":${head.receiptId},"body":${head.raw}}`, 'application/json');
  }

  private async remove(inst: InstanceState, receipt: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!/^\d+$/.test(receipt)) {
      this.badRequest(res, '"receiptId" must be an integer');
      return;
    }
    if (!this.withinRate(inst, 'delete')) {
      this.tooMany(res, 1000);
      return;
    }
    const d = this.decideFaults();
    // deleteNotification has no empty answer.
    if (await this.applyFault({ ...d, empty: false }, req, res)) return;

    const receiptId = Number(receipt);
    const item = inst.queue.find((i) => i.receiptId === receiptId);
    if (!item) {
      this.stats.deleteUnknown++;
      sendJson(res, 200, { result: false, reason: 'Notification not found' });
      return;
    }
    if (this.options.verifyDelete) {
      let ok: boolean;
      try {
        ok = await this.options.verifyDelete(inst.idInstance, structuredClone(item.body));
      } catch {
        ok = false;
      }
      if (!ok) this.stats.violations++;
    }
    const at = inst.queue.findIndex((i) => i.receiptId === receiptId);
    if (at < 0) {
      // Deleted by a concurrent call while verifyDelete ran.
      this.stats.deleteUnknown++;
      sendJson(res, 200, { result: false, reason: 'Notification not found' });
      return;
    }
    inst.queue.splice(at, 1);
    this.stats.delete++;
    sendJson(res, 200, { result: true, reason: '' });
  }

  private async contactInfo(inst: InstanceState, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    let chatId: unknown;
    try {
      const parsed: unknown = text === undefined ? undefined : JSON.parse(text);
      chatId = isObject(parsed) ? parsed['chatId'] : undefined;
    } catch {
      chatId = undefined;
    }
    const at = Date.now();
    if (typeof chatId !== 'string' || chatId === '') {
      this.badRequest(res, '"chatId" is required');
      return;
    }
    this.stats.contactInfoCalls.push({ idInstance: inst.idInstance, chatId, at });
    const interval = this.options.limits?.contactInfoIntervalMs ?? 1000;
    if (interval && inst.lastContactInfoAt !== undefined && at - inst.lastContactInfoAt < interval) {
      this.tooMany(res, interval - (at - inst.lastContactInfoAt));
      return;
    }
    inst.lastContactInfoAt = at;
    const d = this.decideFaults();
    if (await this.applyFault({ ...d, empty: false }, req, res)) return;

    const c = this.options.contacts?.[chatId];
    sendJson(res, 200, {
      avatar: c?.avatar ?? '',
      name: c?.name ?? '',
      contactName: c?.contactName ?? '',
      email: '',
      category: '',
      description: '',
      products: [],
      chatId,
      lastSeen: null,
      isArchive: false,
      isDisappearing: false,
      isMute: false,
      messageExpiration: 0,
      muteExpiration: null,
      isBusiness: false,
    });
  }
}

// ─── webhook sender ─────────────────────────────────────────────────────────────────────────────

export interface WebhookSenderOptions {
  /** Where to POST (the instance's `webhookUrl`). */
  url: string;
  /** `webhookUrlToken`: sent as `Authorization: <scheme> <token>` when set. */
  token?: string;
  /** Default `Bearer`. */
  scheme?: string;
  /** How long one attempt may take (GREEN-API: 180 s). */
  timeoutMs?: number;
  /** The wait before the same notification is sent again (GREEN-API: 60 s). */
  retryDelayMs?: number;
  /** A notification not delivered this long after `send()` is dropped (GREEN-API: 24 h). */
  giveUpAfterMs?: number;
  /**
   * Whether a failed attempt is retried, by its HTTP status (`undefined`: no answer). Default:
   * every failure, as GREEN-API does; a notification not retried is dropped and counted in `refused`.
   */
  retryOn?: (status: number | undefined) => boolean;
}

export interface WebhookSenderStats {
  /** Notifications delivered (answered 200). */
  sent: number;
  /** POSTs made, retries included. */
  attempts: number;
  /** Attempts that were not a 200: other statuses, timeouts, network errors. */
  failures: number;
  /** Answers by HTTP status. */
  statuses: Record<number, number>;
  /** Attempts that ended without a status (timeout, refused, reset). */
  errors: number;
  /** Notifications dropped after giveUpAfterMs. */
  gaveUp: number;
  /** Notifications dropped at their first failure because `retryOn` said no. */
  refused: number;
  /** Notifications still queued when close() was called. */
  discarded: number;
}

interface Outgoing {
  json: string;
  queuedAt: number;
}

/**
 * Delivers notifications the way GREEN-API's webhook does: one at a time and in order, POSTed as
 * JSON, with `Authorization: <scheme> <token>` when a token is set; only HTTP 200 counts as
 * delivered; any other status, a timeout or a network error means the same notification again
 * after `retryDelayMs`, until `giveUpAfterMs` after it was queued.
 *
 * @example
 * const sender = new GreenApiWebhookSender({ url: 'http://127.0.0.1:8080/ingest/greenapi', token: apiToken, retryDelayMs: 1000 });
 * for (const body of SCENARIOS['messages']!.notifications({ idInstance: '1101000001', wid: '79876543210@c.us', now: Date.now() })) sender.send(body);
 * await sender.drain();
 * await sender.close();
 */
export class GreenApiWebhookSender {
  readonly stats: WebhookSenderStats = { sent: 0, attempts: 0, failures: 0, statuses: {}, errors: 0, gaveUp: 0, refused: 0, discarded: 0 };

  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly giveUpAfterMs: number;
  private readonly retryOn: (status: number | undefined) => boolean;
  private readonly agent = new Agent({ keepAliveTimeout: 4_000 });
  private readonly queue: Outgoing[] = [];
  private pumping: Promise<void> | undefined;
  private idle: (() => void)[] = [];
  private closed = false;
  private inFlight: AbortController | undefined;
  private wait: (() => void) | undefined;

  constructor(options: WebhookSenderOptions) {
    this.url = options.url;
    this.headers = { 'Content-Type': 'application/json' };
    if (options.token !== undefined && options.token !== '') this.headers['Authorization'] = `${options.scheme ?? 'Bearer'} ${options.token}`;
    this.timeoutMs = options.timeoutMs ?? 180_000;
    this.retryDelayMs = options.retryDelayMs ?? 60_000;
    this.giveUpAfterMs = options.giveUpAfterMs ?? 86_400_000;
    this.retryOn = options.retryOn ?? (() => true);
  }

  /** Queues a notification; delivery starts at once. */
  send(body: Record<string, unknown>): void {
    if (this.closed) throw new Error('GreenApiWebhookSender: closed');
    this.queue.push({ json: JSON.stringify(body), queuedAt: Date.now() });
    this.pumping ??= this.pump();
  }

  /** Notifications not delivered yet (the one in flight included). */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when every queued notification was delivered or given up (or close() was called). */
  drain(): Promise<void> {
    if (!this.pumping) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops: aborts the attempt in flight, drops what is queued, closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.inFlight?.abort();
    this.wait?.();
    await this.pumping;
    this.stats.discarded += this.queue.length;
    this.queue.length = 0;
    for (const r of this.idle.splice(0)) r();
    await this.agent.close();
  }

  private async pump(): Promise<void> {
    try {
      for (let item = this.queue[0]; item && !this.closed; item = this.queue[0]) {
        await this.deliver(item);
        if (this.closed) break;
        this.queue.shift();
      }
    } finally {
      this.pumping = undefined;
      for (const r of this.idle.splice(0)) r();
    }
  }

  private async deliver(item: Outgoing): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const status = await this.attempt(item);
      if (status === 200) {
        this.stats.sent++;
        return;
      }
      this.stats.failures++;
      if (!this.retryOn(status)) {
        this.stats.refused++;
        return;
      }
      if (Date.now() + this.retryDelayMs - item.queuedAt > this.giveUpAfterMs) {
        this.stats.gaveUp++;
        return;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.wait = undefined;
          resolve();
        };
        const timer = setTimeout(done, this.retryDelayMs);
        this.wait = done;
      });
    }
  }

  /** The HTTP status of one POST; `undefined` when none came (timeout, refused, reset). */
  private async attempt(item: Outgoing): Promise<number | undefined> {
    this.stats.attempts++;
    const ac = new AbortController();
    this.inFlight = ac;
    const timer = setTimeout(() => ac.abort(new Error('webhook timeout')), this.timeoutMs);
    try {
      const res = await request(this.url, {
        method: 'POST',
        headers: this.headers,
        body: item.json,
        dispatcher: this.agent,
        signal: ac.signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      await res.body.dump();
      this.stats.statuses[res.statusCode] = (this.stats.statuses[res.statusCode] ?? 0) + 1;
      return res.statusCode;
    } catch {
      this.stats.errors++;
      return undefined;
    } finally {
      clearTimeout(timer);
      this.inFlight = undefined;
    }
  }
}
