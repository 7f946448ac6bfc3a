/**
 * A fake 1С-Коннект application pipe (PLATFORMS.md "1С-Коннект", DESIGN §6) for the tests, the
 * demo and users without the desktop app: a Unix-socket server (a named pipe on Windows) that
 * speaks the application's framing.
 *
 * What it reproduces:
 * - frames to the client: 4-byte header (length little-endian, bytes 2–3 zero) + UTF-16LE XML;
 * - commands from the client in either encoding, even mixed on one connection: UTF-8 XML without
 *   a header (what the public client writes) or framed UTF-16LE; each `<Command>` is recorded
 *   (`stats.commands`; `EventSubscribe` also in `stats.subscriptions`, cumulative over
 *   connections, so a resubscription after a restart doubles the count) and answered with a
 *   framed `<CommandResult Action ID><Result>Success</Result></CommandResult>` — or with what
 *   `result` returns, or not at all while `answerCommands` is false;
 * - `emit(xml)` frames an event to every connected client. It does not filter by subscription
 *   (keeping tests simple); it records whether a client had subscribed to the event's
 *   Mode/Object/Initiator (`stats.emitted[].subscribed`), so a test can check that it had;
 * - `emitRaw(bytes)` sends bytes as they are (bad frames); `sendSplit(xml, sizes)` sends one frame
 *   in pieces, with a pause between them so that they arrive as separate reads;
 * - `kill()` closes the server and every connection abruptly (the application quit or crashed);
 *   `restart()` listens again on the same path.
 * Not reproduced: the application's own state (contacts, chats) and any reply to a command but
 * its CommandResult.
 *
 * @example
 * const sim = new Connect1cSimulator();
 * const path = await sim.start();          // connectors: [{ id: 'office', platform: 'connect1c', pipe: path }]
 * await sim.play(CONNECT1C_SCENARIOS['answered-call']!.frames({ now: Date.now() }));
 * sim.kill(); await sim.restart();         // the connector reconnects and subscribes again
 * await sim.close();
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIN_BODY_BYTES, encodeFrame } from './framing.js';
import { escapeXml } from './pipe.js';
import type { ScenarioFrame } from './scenarios.js';
import { parseXml } from './xml.js';

export interface SimulatorCommand {
  readonly action: string;
  readonly mode: string;
  readonly object?: string;
  readonly initiator?: string;
  readonly id: string;
  /** Child elements, name → text. */
  readonly children: Readonly<Record<string, string>>;
  readonly xml: string;
  readonly encoding: 'utf8' | 'utf16-framed';
}

export interface SimulatorSubscription {
  readonly mode: string;
  readonly object: string;
  readonly initiator: string;
  readonly id: string;
}

export interface Connect1cSimulatorStats {
  /** Connections accepted, over restarts. */
  connections: number;
  /** Every `EventSubscribe` received, over connections and restarts. */
  subscriptions: SimulatorSubscription[];
  /** Every command received (subscriptions included). */
  commands: SimulatorCommand[];
  /** Commands answered with a CommandResult. */
  answered: number;
  /** Events sent with `emit`: how many clients got each, and whether one of them had subscribed to it. */
  emitted: { xml: string; clients: number; subscribed: boolean }[];
  /** Input from clients that was not a readable command. */
  badInput: { error: string; raw: string }[];
}

export interface Connect1cSimulatorOptions {
  /** Where to listen (default a fresh path in os.tmpdir(); a `\\.\pipe\…` name on Windows). */
  path?: string;
  /** The `<Result>` text for a command (default `Success`); `undefined` leaves it unanswered. */
  result?: (cmd: SimulatorCommand) => string | undefined;
  /** Delay before a command is answered, ms (default 0): answers can then overtake each other. */
  delayMs?: (cmd: SimulatorCommand) => number;
}

interface Client {
  readonly socket: Socket;
  buf: Buffer;
  readonly subs: Set<string>;
}

function subKey(mode: string, object: string, initiator: string): string {
  return `${mode}|${object}|${initiator}`;
}

const MAX_CLIENT_BUFFER = 1024 * 1024;

/** The end (exclusive) of the UTF-8 XML element starting at byte 0, or -1 when it is not complete yet. */
function utf8ElementEnd(buf: Buffer): number {
  let quote = 0;
  let i = 1;
  for (; i < buf.length; i++) {
    const b = buf[i];
    if (quote !== 0) {
      if (b === quote) quote = 0;
    } else if (b === 0x22 || b === 0x27) {
      quote = b;
    } else if (b === 0x3e) {
      break;
    }
  }
  if (i >= buf.length) return -1;
  if (buf[i - 1] === 0x2f) return i + 1;
  const name = /^<([^\s/>]+)/.exec(buf.subarray(0, i + 1).toString('utf8'))?.[1] ?? 'Command';
  const close = buf.indexOf(`</${name}>`, i + 1, 'utf8');
  return close < 0 ? -1 : close + name.length + 3;
}

/**
 * The 1С-Коннект pipe simulator (see the module comment).
 */
export class Connect1cSimulator {
  readonly stats: Connect1cSimulatorStats = { connections: 0, subscriptions: [], commands: [], answered: 0, emitted: [], badInput: [] };
  /** While false, commands are recorded but not answered (to test command timeouts). */
  answerCommands = true;
  private server: Server | undefined;
  private readonly clients = new Set<Client>();
  private path: string | undefined;

  constructor(private readonly opts: Connect1cSimulatorOptions = {}) {}

  /** Connected clients. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Listens; resolves with the path to give the connector as `pipe`. */
  async start(): Promise<string> {
    this.path ??= this.opts.path ?? defaultPath();
    await this.listen(this.path);
    return this.path;
  }

  /** Listens again on the same path after `kill()`. */
  async restart(): Promise<string> {
    if (!this.path) throw new Error('the simulator was never started');
    await this.listen(this.path);
    return this.path;
  }

  private listen(path: string): Promise<void> {
    if (this.server) return Promise.resolve();
    if (process.platform !== 'win32') rmSync(path, { force: true });
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  private onConnection(socket: Socket): void {
    this.stats.connections++;
    const client: Client = { socket, buf: Buffer.alloc(0), subs: new Set() };
    this.clients.add(client);
    socket.on('data', (chunk: Buffer) => this.onData(client, chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.clients.delete(client));
  }

  private onData(c: Client, chunk: Buffer): void {
    c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
    while (c.buf.length > 0) {
      const first = c.buf[0] as number;
      if (first === 0x20 || first === 0x0a || first === 0x0d || first === 0x09) {
        c.buf = c.buf.subarray(1);
        continue;
      }
      if (first === 0x3c) {
        if (c.buf.length < 2) return;
        if (c.buf[1] !== 0) {
          // UTF-8 without a header: one element after the other.
          const end = utf8ElementEnd(c.buf);
          if (end < 0) {
            if (c.buf.length > MAX_CLIENT_BUFFER) this.badClient(c, 'an unfinished UTF-8 command over 1 MiB');
            return;
          }
          const xml = c.buf.subarray(0, end).toString('utf8');
          c.buf = c.buf.subarray(end);
          this.onCommand(c, xml, 'utf8');
          continue;
        }
      }
      if (c.buf.length < 4) return;
      const length = c.buf.readUInt16LE(0);
      if (c.buf[2] !== 0 || c.buf[3] !== 0 || length % 2 !== 0 || length < MIN_BODY_BYTES) {
        this.badClient(c, `bad frame header ${c.buf.subarray(0, 4).toString('hex')}`);
        return;
      }
      if (c.buf.length < 4 + length) return;
      const xml = c.buf.subarray(4, 4 + length).toString('utf16le');
      c.buf = c.buf.subarray(4 + length);
      this.onCommand(c, xml, 'utf16-framed');
    }
  }

  /** Input it cannot read: recorded, and the rest of the client's buffer dropped. */
  private badClient(c: Client, error: string): void {
    this.stats.badInput.push({ error, raw: c.buf.subarray(0, 256).toString('hex') });
    c.buf = Buffer.alloc(0);
  }

  private onCommand(c: Client, xml: string, encoding: SimulatorCommand['encoding']): void {
    let root;
    try {
      root = parseXml(xml);
    } catch (err) {
      this.stats.badInput.push({ error: (err as Error).message, raw: xml });
      return;
    }
    if (root.name !== 'Command') {
      this.stats.badInput.push({ error: `expected <Command>, found <${root.name}>`, raw: xml });
      return;
    }
    const a = root.attrs;
    const cmd: SimulatorCommand = {
      action: a.Action ?? '',
      mode: a.Mode ?? '',
      ...(a.Object === undefined ? {} : { object: a.Object }),
      ...(a.Initiator === undefined ? {} : { initiator: a.Initiator }),
      id: a.ID ?? '',
      children: Object.fromEntries(root.children.map((ch) => [ch.name, ch.text])),
      xml,
      encoding,
    };
    this.stats.commands.push(cmd);
    if (cmd.action === 'EventSubscribe') {
      this.stats.subscriptions.push({ mode: cmd.mode, object: cmd.object ?? '', initiator: cmd.initiator ?? '', id: cmd.id });
      c.subs.add(subKey(cmd.mode, cmd.object ?? '', cmd.initiator ?? ''));
    }
    if (!this.answerCommands) return;
    const result = this.opts.result ? this.opts.result(cmd) : 'Success';
    if (result === undefined) return;
    const answer = encodeFrame(`<CommandResult Action="${escapeXml(cmd.action)}" ID="${escapeXml(cmd.id)}"><Result>${escapeXml(result)}</Result></CommandResult>`);
    const delay = this.opts.delayMs?.(cmd) ?? 0;
    const send = () => {
      this.stats.answered++;
      this.write(c, answer);
    };
    if (delay > 0) setTimeout(send, delay).unref();
    else send();
  }

  private write(c: Client, bytes: Buffer): void {
    if (!c.socket.destroyed) c.socket.write(bytes);
  }

  /** Frames an event and sends it to every connected client; returns how many got it. */
  emit(xml: string): number {
    const frame = encodeFrame(xml);
    const attr = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(/^[^>]*/.exec(xml)?.[0] ?? '')?.[1] ?? '';
    const key = subKey(attr('Mode'), attr('Object'), attr('Initiator'));
    let subscribed = false;
    for (const c of this.clients) {
      if (c.subs.has(key)) subscribed = true;
      this.write(c, frame);
    }
    this.stats.emitted.push({ xml, clients: this.clients.size, subscribed });
    return this.clients.size;
  }

  /** Sends bytes as they are (bad frames) to every connected client. */
  emitRaw(bytes: Buffer): number {
    for (const c of this.clients) this.write(c, bytes);
    return this.clients.size;
  }

  /**
   * Sends one framed event in pieces of the given sizes (the rest in a last piece), pausing
   * `pauseMs` between them so that the client reads them separately.
   */
  async sendSplit(xml: string, chunkSizes: readonly number[], pauseMs = 5): Promise<void> {
    const frame = encodeFrame(xml);
    let pos = 0;
    const pieces: Buffer[] = [];
    for (const size of chunkSizes) {
      if (pos >= frame.length) break;
      pieces.push(frame.subarray(pos, pos + Math.max(1, size)));
      pos += Math.max(1, size);
    }
    if (pos < frame.length) pieces.push(frame.subarray(pos));
    for (const [i, piece] of pieces.entries()) {
      if (i > 0) await new Promise((r) => setTimeout(r, pauseMs));
      this.emitRaw(piece);
    }
  }

  /** Sends a scenario's frames in order: XML framed, bad frames as they are. */
  async play(frames: readonly ScenarioFrame[], pauseMs = 0): Promise<void> {
    for (const f of frames) {
      if (typeof f === 'string') this.emit(f);
      else this.emitRaw(f.raw);
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  }

  /** Closes the server and every connection abruptly, as when the application quits or crashes. */
  kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.clients) c.socket.destroy();
    this.clients.clear();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.kill();
    if (this.path && process.platform !== 'win32') rmSync(this.path, { force: true });
  }
}

function defaultPath(): string {
  const name = `sb-1c-${process.pid}-${randomBytes(4).toString('hex')}`;
  return process.platform === 'win32' ? `\\\\.\\pipe\\${name}` : join(tmpdir(), `${name}.sock`);
}
