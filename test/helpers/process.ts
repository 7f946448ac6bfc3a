/**
 * Helpers for end-to-end tests that run the built CLI (`dist/cli/main.js`) as child processes:
 * temp data folders, free ports, spawning and killing, the API token, small HTTP calls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { TEST_STORE, testStoreFor } from './postgres.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** Throws a clear error when the CLI has not been built. */
export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before these tests (npm test builds first)`);
}

// ─── temp folders ─────────────────────────────────────────────────────────────────────────────

const tempDirs = new Set<string>();

/** A new empty folder under the OS temp folder, removed by `removeTempDirs()`. */
export function makeTempDir(prefix = 'switchboard-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// ─── the store behind a data folder ───────────────────────────────────────────────────────────

const dataStores = new Map<string, { url: string; release(): Promise<void> }>();

/**
 * Under `SWITCHBOARD_TEST_STORE=postgres`, gives the data folder `dir` a fresh PostgreSQL database:
 * every child started with `--data dir` then gets it as `SWITCHBOARD_POSTGRES_URL` (so `serve`,
 * `replay`, `rebuild`… on that folder share one store, as they share one SQLite file otherwise).
 * Returns its URL; `undefined` on SQLite, where nothing changes. `startServer`/`startServerWith`
 * call it themselves; call it before `runCli` on a folder no server has used yet.
 */
export async function useDataStore(dir: string): Promise<string | undefined> {
  if (TEST_STORE === 'sqlite') return undefined;
  const known = dataStores.get(dir);
  if (known) return known.url;
  const made = await testStoreFor(dir, '');
  if (!('postgres' in made.store)) return undefined;
  const entry = { url: made.store.postgres, release: () => made.release() };
  dataStores.set(dir, entry);
  return entry.url;
}

/** The PostgreSQL URL `useDataStore` gave `dir`, if any. */
export function dataStoreUrl(dir: string): string | undefined {
  return dataStores.get(dir)?.url;
}

/** Drops the databases `useDataStore` made (children using them must have ended). */
export async function releaseDataStores(): Promise<void> {
  const all = [...dataStores.values()];
  dataStores.clear();
  await Promise.all(all.map((s) => s.release()));
}

/** The `--data DIR` of a command line. */
function dataDirOf(args: readonly string[]): string | undefined {
  const i = args.indexOf('--data');
  return i >= 0 ? args[i + 1] : undefined;
}

// ─── ports ────────────────────────────────────────────────────────────────────────────────────

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = addr && typeof addr === 'object' ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

// ─── child processes ──────────────────────────────────────────────────────────────────────────

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Output kept per stream; older output is dropped beyond this. */
const MAX_OUTPUT = 4 * 1024 * 1024;

export class CliProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<Exit>;
  private out = '';
  private err = '';
  private exit: Exit | undefined;
  private readonly watchers = new Set<() => void>();

  constructor(args: readonly string[], env: NodeJS.ProcessEnv) {
    this.proc = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.proc.pid ?? -1;
    this.proc.stdout?.setEncoding('utf8');
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stdout?.on('data', (chunk: string) => {
      this.out = keepTail(this.out + chunk);
      this.notify();
    });
    this.proc.stderr?.on('data', (chunk: string) => {
      this.err = keepTail(this.err + chunk);
      this.notify();
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.proc.once('close', (code, signal) => {
        this.exit = { code, signal };
        children.delete(this);
        this.notify();
        resolve(this.exit);
      });
      this.proc.once('error', (e) => {
        this.err += `\nspawn error: ${e.message}`;
      });
    });
    children.add(this);
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  private notify(): void {
    for (const w of [...this.watchers]) w();
  }

  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first or on timeout. */
  waitForStdout(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.watchers.delete(check);
        fn();
      };
      const check = () => {
        const m = pattern.exec(this.out);
        if (m) return done(() => resolve(m));
        if (this.exit) {
          const exit = this.exit;
          return done(() => reject(new Error(`process ${this.pid} exited (code ${exit.code}, signal ${exit.signal}) before printing ${pattern}\nstdout:\n${this.out}\nstderr:\n${this.err}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}\nstdout:\n${this.out}\nstderr:\n${this.err}`))), timeoutMs);
      this.watchers.add(check);
      check();
    });
  }

  /** Sends a signal (if still running) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.running) this.proc.kill(signal);
    return this.exited;
  }
}

function keepTail(s: string): string {
  return s.length > MAX_OUTPUT ? s.slice(s.length - MAX_OUTPUT) : s;
}

const children = new Set<CliProcess>();

/** The environment for children: ours without SWITCHBOARD_* settings, which would change their behaviour. */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHBOARD_')) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Spawns `node dist/cli/main.js ...args`; with `--data DIR`, on DIR's store (`useDataStore`). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const dir = dataDirOf(args);
  const url = dir === undefined ? undefined : dataStoreUrl(dir);
  return new CliProcess(args, childEnv(url === undefined ? env : { SWITCHBOARD_POSTGRES_URL: url, ...env }));
}

/** SIGKILLs every child still running and waits for them. */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...children].map((c) => c.kill('SIGKILL')));
}

export interface Server {
  readonly child: CliProcess;
  readonly url: string;
}

/** Runs `serve --data DIR --port N` and waits for its "listening on" line. */
export async function startServer(dataDir: string, port: number, timeoutMs = 20_000): Promise<Server> {
  await useDataStore(dataDir);
  const child = runCli(['serve', '--data', dataDir, '--port', String(port)]);
  try {
    const m = await child.waitForStdout(/listening on (http:\/\/\S+)/, timeoutMs);
    return { child, url: m[1] as string };
  } catch (err) {
    await child.kill('SIGKILL');
    throw err;
  }
}

/** Runs `node dist/cli/main.js ...args` (e.g. `serve --config FILE`) and waits for its "listening on" line. */
export async function startServerWith(args: readonly string[], timeoutMs = 20_000): Promise<Server> {
  const dir = dataDirOf(args);
  if (dir !== undefined) await useDataStore(dir);
  const child = runCli(args);
  try {
    const m = await child.waitForStdout(/listening on (http:\/\/\S+)/, timeoutMs);
    return { child, url: m[1] as string };
  } catch (err) {
    await child.kill('SIGKILL');
    throw err;
  }
}

/** The API token a server keeps in its data folder. */
export function readApiToken(dataDir: string): string {
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  if (!token) throw new Error(`empty API token in ${dataDir}`);
  return token;
}

// ─── HTTP ─────────────────────────────────────────────────────────────────────────────────────

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  /** The body parsed as JSON, `undefined` if it is not JSON. */
  readonly json: unknown;
}

export interface HttpOptions {
  readonly token?: string;
  readonly body?: string;
  readonly contentType?: string;
  readonly timeoutMs?: number;
  readonly dispatcher?: Agent;
}

let defaultAgent: Agent | undefined;

function agent(): Agent {
  defaultAgent ??= new Agent({ keepAliveTimeout: 2_000, connections: 64 });
  return defaultAgent;
}

/** Closes the shared HTTP connection pool. */
export async function closeHttp(): Promise<void> {
  const a = defaultAgent;
  defaultAgent = undefined;
  await a?.destroy();
}

/** One HTTP call; network errors reject (connection refused, reset, timeout). */
export async function http(method: 'GET' | 'POST' | 'DELETE', url: string, opts: HttpOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const timeout = opts.timeoutMs ?? 15_000;
  const res = await request(url, {
    method,
    headers,
    body: opts.body,
    dispatcher: opts.dispatcher ?? agent(),
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json };
}

/** GET with the API token; throws unless 200; returns the parsed body. */
export async function getJson(url: string, token: string): Promise<unknown> {
  const res = await http('GET', url, { token, timeoutMs: 60_000 });
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${res.text.slice(0, 500)}`);
  return res.json;
}

/** An event as `GET /v1/events` returns it (the fields these tests read). */
export interface ApiEvent {
  readonly id: string;
  readonly type: string;
  readonly sequence: string;
  readonly data: Record<string, unknown>;
}

interface EventsPage {
  readonly events: ApiEvent[];
  readonly next: string | null;
}

/** Every stored event (matching `query`, e.g. `&platform=widget`), paging `GET /v1/events` with `after` = `next` and `limit` 1000. */
export async function fetchAllEvents(baseUrl: string, token: string, query = ''): Promise<ApiEvent[]> {
  const all: ApiEvent[] = [];
  let after = '0';
  for (;;) {
    const page = (await getJson(`${baseUrl}/v1/events?after=${after}&limit=1000${query}`, token)) as EventsPage;
    all.push(...page.events);
    if (page.next === null) return all;
    after = page.next;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ─── payloads ─────────────────────────────────────────────────────────────────────────────────

/** A GREEN-API incoming text message notification with the given `idMessage`. */
export function greenApiMessage(idMessage: string, n: number): Record<string, unknown> {
  const phone = `7900${String(1_000_000 + (n % 5000)).padStart(7, '0')}`;
  return {
    typeWebhook: 'incomingMessageReceived',
    instanceData: { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' },
    timestamp: 1_700_000_000 + n,
    idMessage,
    senderData: { chatId: `${phone}@c.us`, sender: `${phone}@c.us`, senderName: `Client ${n % 5000}` },
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: `hello #${n}` } },
  };
}
