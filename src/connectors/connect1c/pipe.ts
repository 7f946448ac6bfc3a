/**
 * The 1С-Коннект application pipe as a pulled source (PLATFORMS.md "1С-Коннект", seed 003).
 *
 * - Opens the pipe with `net.connect(path)`: on Windows `\\.\pipe\BuhphoneAgentAPI2_<login>`, on
 *   Linux a Unix socket (what the tests and the simulator use).
 * - Subscribes to the mass events ("Фильтрация событий"): one
 *   `<Command Action="EventSubscribe" Mode Object Initiator ID/>` per combination, on every
 *   connect — a restarted application has forgotten them — then reports `connected`.
 * - Decodes the frames (`framing.ts`) and checks each body with the safe XML parser: an `<Event>`
 *   goes to the runtime as one item (its XML text); a `<CommandResult>` settles the command with
 *   its `ID`; a bad frame, bad XML (malformed, a DTD, an entity declaration, over the size limit)
 *   or another root element is quarantined with the reason, and reading goes on.
 * - When the application closes the pipe (it may be restarted at any time) or the socket fails,
 *   what was read is handed over first, then `read` throws `RetryableError`: the runtime closes
 *   this source and reconnects with backoff; the new source subscribes again.
 * - Commands (`send-message`, `raw`) are written in UTF-8 without a header (what the one public
 *   client does) or framed UTF-16LE (`commandEncoding`), one write per command, and settle with
 *   the `CommandResult` of the same `ID` or fail after `commandTimeoutMs`.
 *
 * The application keeps nothing for a client that is away: there is no resume point, so batches
 * carry no cursor and need no ack.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { RetryableError, SwitchboardError, isRecord } from '../../core/index.js';
import type { Source, SourceBatch, SourceContext } from '../types.js';
import { FrameDecoder, encodeFrame } from './framing.js';
import { DEFAULT_SUBSCRIPTIONS, MAX_FRAME_CHARS, type Connect1cSettings, type Connect1cSubscription } from './settings.js';
import { childText, parseXml } from './xml.js';

/** The answer to a command, as the application sent it. */
export interface Connect1cCommandResult {
  readonly action: string;
  readonly id: string;
  /** The `<Result>` text, e.g. `Success`. */
  readonly result: string;
  readonly xml: string;
}

// ─── commands ───────────────────────────────────────────────────────────────────────────────────

/** Escapes text for an XML attribute value or element content. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Characters XML 1.0 cannot carry at all, even escaped. */
// eslint-disable-next-line no-control-regex -- control characters are what this finds
const NOT_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export interface CommandSpec {
  readonly action: string;
  readonly mode: string;
  readonly object?: string;
  readonly initiator?: string;
  /** Child elements in order, as name → text. */
  readonly children?: Readonly<Record<string, string>>;
}

/**
 * Builds one `<Command>`: attributes in the order the public client writes them, children in the
 * order given, every value escaped.
 *
 * @example
 * buildCommand({ action: 'SendMessage', mode: 'Colleagues', children: { ColleagueID: '…', MessageBody: 'Привет' } }, id);
 * // <Command Action="SendMessage" Mode="Colleagues" ID="…"><ColleagueID>…</ColleagueID><MessageBody>Привет</MessageBody></Command>
 */
export function buildCommand(spec: CommandSpec, id: string): string {
  for (const [what, v] of [['action', spec.action], ['mode', spec.mode], ['object', spec.object], ['initiator', spec.initiator]] as const) {
    if (v !== undefined && NOT_XML_CHARS.test(v)) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `${what} holds a character XML cannot carry`);
  }
  let attrs = `Action="${escapeXml(spec.action)}" Mode="${escapeXml(spec.mode)}" ID="${escapeXml(id)}"`;
  if (spec.object !== undefined) attrs += ` Object="${escapeXml(spec.object)}"`;
  if (spec.initiator !== undefined) attrs += ` Initiator="${escapeXml(spec.initiator)}"`;
  const children = Object.entries(spec.children ?? {});
  if (children.length === 0) return `<Command ${attrs}/>`;
  let body = '';
  for (const [name, text] of children) {
    if (!XML_NAME.test(name)) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `"${name}" is not an XML element name`);
    if (NOT_XML_CHARS.test(text)) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `<${name}> holds a character XML cannot carry`);
    body += `<${name}>${escapeXml(text)}</${name}>`;
  }
  return `<Command ${attrs}>${body}</Command>`;
}

/** The subscription command of one combination (the seed's "Фильтрация событий"). */
export function subscribeCommand(sub: Connect1cSubscription, id: string): string {
  return buildCommand({ action: 'EventSubscribe', mode: sub.mode, object: sub.object, initiator: sub.initiator }, id);
}

function nonEmptyString(args: Record<string, unknown>, key: string, command: string): string {
  const v = args[key];
  if (typeof v !== 'string' || v.length === 0) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `${command}: "${key}" must be a non-empty string`);
  return v;
}

function optionalString(args: Record<string, unknown>, key: string, command: string): string | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new SwitchboardError('SB_ERR_QUERY_INVALID', `${command}: "${key}" must be a string`);
  return v;
}

/**
 * Turns a command name and its arguments into a `CommandSpec`; throws `SB_ERR_QUERY_INVALID`
 * naming the bad argument, `SB_ERR_NOT_FOUND` for an unknown command.
 *
 * - `send-message` `{ mode?: 'Colleagues' | 'ServicesClients', colleagueId | (serviceId, userId), text, citation? }`
 *   → `SendMessage` (mode defaults to `Colleagues` with `colleagueId`, else `ServicesClients`).
 * - `raw` `{ action, mode, object?, initiator?, children?: { Name: text } }` → any command.
 *
 * @example
 * commandSpec('send-message', { colleagueId: '6dd0…', text: 'Перезвоню через 5 минут' });
 */
export function commandSpec(name: string, args: unknown): CommandSpec {
  if (!isRecord(args)) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `${name}: the arguments must be an object`);
  if (name === 'send-message') {
    const text = nonEmptyString(args, 'text', name);
    const colleagueId = optionalString(args, 'colleagueId', name);
    const mode = optionalString(args, 'mode', name) ?? (colleagueId !== undefined ? 'Colleagues' : 'ServicesClients');
    const citation = optionalString(args, 'citation', name);
    const children: Record<string, string> = {};
    if (mode === 'Colleagues') {
      children.ColleagueID = nonEmptyString(args, 'colleagueId', name);
    } else if (mode === 'ServicesClients') {
      children.ServiceID = nonEmptyString(args, 'serviceId', name);
      children.UserID = nonEmptyString(args, 'userId', name);
    } else {
      throw new SwitchboardError('SB_ERR_QUERY_INVALID', `${name}: mode must be Colleagues (with colleagueId) or ServicesClients (with serviceId and userId); use the raw command for ${mode}`);
    }
    children.MessageBody = text;
    if (citation !== undefined) children.Citation = citation;
    return { action: 'SendMessage', mode, children };
  }
  if (name === 'raw') {
    const rawChildren = args.children;
    const children: Record<string, string> = {};
    if (rawChildren !== undefined) {
      if (!isRecord(rawChildren)) throw new SwitchboardError('SB_ERR_QUERY_INVALID', 'raw: "children" must be an object of element name → text');
      for (const [k, v] of Object.entries(rawChildren)) {
        if (!XML_NAME.test(k)) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `raw: "${k}" is not an XML element name`);
        if (typeof v !== 'string') throw new SwitchboardError('SB_ERR_QUERY_INVALID', `raw: children.${k} must be a string`);
        children[k] = v;
      }
    }
    const object = optionalString(args, 'object', name);
    const initiator = optionalString(args, 'initiator', name);
    return {
      action: nonEmptyString(args, 'action', name),
      mode: nonEmptyString(args, 'mode', name),
      ...(object === undefined ? {} : { object }),
      ...(initiator === undefined ? {} : { initiator }),
      children,
    };
  }
  throw new SwitchboardError('SB_ERR_NOT_FOUND', `1С-Коннект has no command "${name}"; known: send-message, raw`);
}

// ─── the source ─────────────────────────────────────────────────────────────────────────────────

/** Items handed to the runtime per batch. */
const MAX_BATCH = 500;
/** Entries held before the socket is paused (the application then blocks on its pipe). */
const HIGH_WATER = 10_000;
const LOW_WATER = 1_000;
/** Raw bytes of a bad frame kept in the quarantine, as hex. */
const MAX_RAW_BYTES = 16 * 1024;


export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

type Entry = { readonly event: string } | { readonly rejected: { readonly error: string; readonly raw: string } };

interface Pending {
  readonly action: string;
  readonly resolve: (r: Connect1cCommandResult) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Bad frame bytes as quarantine text: hex, clipped. */
export function describeRaw(raw: Buffer): string {
  const shown = raw.subarray(0, MAX_RAW_BYTES).toString('hex');
  return raw.length > MAX_RAW_BYTES ? `hex:${shown}… (${raw.length} bytes)` : `hex:${shown}`;
}

/** What the source counted since it was made; for tests and diagnostics. */
export interface Connect1cSourceStats {
  events: number;
  rejected: number;
  commandResults: number;
  /** CommandResults with an ID no command waits for (e.g. answered after the timeout). */
  unmatchedResults: number;
  /** Subscriptions the application answered with something other than `Success`. */
  refusedSubscriptions: { subscription: Connect1cSubscription; result: string }[];
}

/**
 * The pulled source of one 1С-Коннект connector (see the module comment).
 *
 * @example
 * const source = new Connect1cPipeSource({ connectorId: 'office', settings: { pipe: '\\\\.\\pipe\\BuhphoneAgentAPI2_ivanov' }, cursor: undefined, signal: console.log });
 * await source.connect(new AbortController().signal);
 * const batch = await source.read(signal); // { items: ['<Event …>…</Event>', …], rejected: [...] }
 * await source.command('send-message', { colleagueId: '…', text: 'Привет' }); // { action: 'SendMessage', id, result: 'Success', xml }
 */
export class Connect1cPipeSource implements Source {
  readonly reportsConnected = true;
  readonly stats: Connect1cSourceStats = { events: 0, rejected: 0, commandResults: 0, unmatchedResults: 0, refusedSubscriptions: [] };
  private socket: Socket | undefined;
  private readonly decoder: FrameDecoder;
  private readonly queue: Entry[] = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly pending = new Map<string, Pending>();
  private writes: Promise<void> = Promise.resolve();
  private paused = false;
  private closed = false;
  private readonly maxChars: number;

  constructor(private readonly ctx: SourceContext<Connect1cSettings>) {
    this.maxChars = Math.min(MAX_FRAME_CHARS, ctx.settings.maxFrameChars ?? MAX_FRAME_CHARS);
    this.decoder = new FrameDecoder({ maxBodyBytes: this.maxChars * 2 });
  }

  private get path(): string {
    const p = this.ctx.settings.pipe;
    if (p === undefined) throw new SwitchboardError('SB_ERR_INTERNAL', 'the 1С-Коннект source needs settings.pipe');
    return p;
  }

  async connect(signal: AbortSignal): Promise<void> {
    const path = this.path;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const onAbort = () => {
        s.destroy();
        reject(new RetryableError('connect aborted'));
      };
      const onError = (err: NodeJS.ErrnoException) => {
        cleanup();
        s.destroy();
        reject(new RetryableError(`cannot open the 1С-Коннект pipe ${path}: ${err.code ?? err.message} (is the application running with this account?)`, { cause: err }));
      };
      const cleanup = () => {
        signal.removeEventListener('abort', onAbort);
        s.off('error', onError);
      };
      s.once('connect', () => {
        cleanup();
        resolve(s);
      });
      s.once('error', onError);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.onGone(`the pipe failed: ${err.code ?? err.message}`, err));
    socket.on('close', () => this.onGone('the application closed the pipe'));

    const subs = this.ctx.settings.subscribe ?? DEFAULT_SUBSCRIPTIONS;
    const sends: Promise<void>[] = [];
    for (const sub of subs) {
      const id = randomUUID();
      // The answers only tell which combinations the application refused; nothing waits on them.
      this.expect(id, 'EventSubscribe').then(
        (r) => {
          if (r.result !== 'Success') this.stats.refusedSubscriptions.push({ subscription: sub, result: r.result });
        },
        () => undefined,
      );
      sends.push(this.write(subscribeCommand(sub, id)));
    }
    try {
      await Promise.all(sends);
    } catch (err) {
      throw err instanceof RetryableError ? err : new RetryableError(`subscribing failed: ${(err as Error).message}`, { cause: err });
    }
    if (this.failure) throw this.failure;
    this.ctx.signal({ kind: 'connected', detail: `pipe ${path}; ${subs.length} subscriptions sent` });
  }

  private onData(chunk: Buffer): void {
    for (const f of this.decoder.push(chunk)) {
      if ('xml' in f) this.onXml(f.xml);
      else this.reject(f.error, describeRaw(f.raw));
    }
    if (this.queue.length >= HIGH_WATER && !this.paused) {
      this.paused = true;
      this.socket?.pause();
    }
    this.notify();
  }

  private onXml(xml: string): void {
    let root;
    try {
      root = parseXml(xml, this.maxChars);
    } catch (err) {
      this.reject((err as Error).message, xml);
      return;
    }
    if (root.name === 'Event') {
      this.stats.events++;
      this.queue.push({ event: xml });
    } else if (root.name === 'CommandResult') {
      this.stats.commandResults++;
      const id = root.attrs.ID ?? '';
      const waiting = this.pending.get(id);
      if (!waiting) {
        this.stats.unmatchedResults++;
        return;
      }
      this.pending.delete(id);
      clearTimeout(waiting.timer);
      waiting.resolve({ action: root.attrs.Action ?? '', id, result: childText(root, 'Result') ?? '', xml });
    } else {
      this.reject(`unexpected <${root.name}> element; the application sends <Event> and <CommandResult>`, xml);
    }
  }

  private reject(error: string, raw: string): void {
    this.stats.rejected++;
    this.queue.push({ rejected: { error, raw } });
  }

  private onGone(reason: string, cause?: unknown): void {
    if (this.failure) return;
    // What the stream left unread (a partial frame, skipped bytes) is quarantined too.
    for (const f of this.decoder.end()) {
      if ('xml' in f) this.onXml(f.xml);
      else this.reject(f.error, describeRaw(f.raw));
    }
    this.failure = new RetryableError(reason, { connectionLost: true, ...(cause === undefined ? {} : { cause }) });
    this.failPending(reason);
    this.notify();
  }

  private failPending(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RetryableError(`command ${p.action} (ID ${id}) got no CommandResult: ${reason}`));
    }
    this.pending.clear();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async read(signal: AbortSignal): Promise<SourceBatch | null> {
    while (this.queue.length === 0 && !this.failure && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (this.queue.length === 0) {
      if (this.failure) throw this.failure;
      return null;
    }
    const items: string[] = [];
    const rejected: { error: string; raw: string }[] = [];
    for (const e of this.queue.splice(0, MAX_BATCH)) {
      if ('event' in e) items.push(e.event);
      else rejected.push(e.rejected);
    }
    if (this.paused && this.queue.length <= LOW_WATER) {
      this.paused = false;
      this.socket?.resume();
    }
    return rejected.length > 0 ? { items, rejected } : { items };
  }

  /** Registers a command waiting for its CommandResult. */
  private expect(id: string, action: string): Promise<Connect1cCommandResult> {
    const timeoutMs = this.ctx.settings.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise<Connect1cCommandResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RetryableError(`command ${action} (ID ${id}) got no CommandResult within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { action, resolve, reject, timer });
    });
  }

  /** One write per command, each after the previous one's callback: a message-mode pipe then sees one message per command. */
  private write(xml: string): Promise<void> {
    const socket = this.socket;
    if (!socket || this.failure || this.closed) return Promise.reject(this.failure ?? new RetryableError('the pipe is not open'));
    let bytes: Buffer;
    if ((this.ctx.settings.commandEncoding ?? 'utf8') === 'utf16-framed') {
      try {
        bytes = encodeFrame(xml);
      } catch (err) {
        return Promise.reject(new SwitchboardError('SB_ERR_QUERY_INVALID', `the command does not fit a frame: ${(err as Error).message}`));
      }
    } else {
      bytes = Buffer.from(xml, 'utf8');
    }
    const next = this.writes.then(
      () =>
        new Promise<void>((resolve, reject) => {
          if (socket.destroyed) return reject(this.failure ?? new RetryableError('the pipe is closed'));
          socket.write(bytes, (err) => (err ? reject(new RetryableError(`writing to the pipe failed: ${err.message}`, { cause: err })) : resolve()));
        }),
    );
    this.writes = next.catch(() => undefined);
    return next;
  }

  /**
   * Sends `send-message` or `raw` (see `commandSpec`) and resolves with the application's
   * `CommandResult`, whatever its `Result`; rejects with `RetryableError` when none comes within
   * `commandTimeoutMs` or the pipe closes first.
   */
  async command(name: string, args: unknown): Promise<Connect1cCommandResult> {
    const spec = commandSpec(name, args);
    const id = randomUUID();
    const xml = buildCommand(spec, id);
    if (!this.socket || this.failure || this.closed) throw this.failure ?? new RetryableError('the pipe is not open');
    const answer = this.expect(id, spec.action);
    try {
      await this.write(xml);
    } catch (err) {
      const p = this.pending.get(id);
      if (p) {
        clearTimeout(p.timer);
        this.pending.delete(id);
      }
      answer.catch(() => undefined);
      throw err;
    }
    return answer;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failure ??= new RetryableError('the source was closed');
    this.failPending('the source was closed');
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.removeAllListeners('data');
      socket.destroy();
    }
    this.notify();
  }
}
