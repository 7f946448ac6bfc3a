#!/usr/bin/env node
/**
 * The `switchboard` command: serve, replay, rebuild, migrate, erase, config check, events, simulate.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { setFlagsFromString } from 'node:v8';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { createParser } from 'eventsource-parser';
import { fetch } from 'undici';
import { Document } from 'yaml';
import { ConfigError, PLATFORMS, SwitchboardError, type SwitchboardEvent } from '../core/index.js';
import { parseJsonLine } from '../connectors/json-ingest.js';
import type { IngestItem } from '../connectors/types.js';
import { MASK, maskUrl } from '../core/secrets.js';
import { connectorsOf, effectiveConfig, loadConfigFile, resolveConfig, type SwitchboardConfig } from '../server/config.js';
import { parseArchivedLine } from '../server/archive.js';
import { OUT_OF_REACH } from '../server/erasure.js';
import type { ErasureRecord } from '../server/store/erasure-plan.js';
import { Switchboard } from '../server/switchboard.js';
import { migrate } from './migrate.js';
import { simulate, type SimulateOptions } from './simulate.js';

import { VERSION } from '../server/version.js';

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function parseSequence(value: string): string {
  if (!/^\d{1,16}$/.test(value)) throw new InvalidArgumentError('expected a sequence (up to 16 digits)');
  return value;
}

interface ConfigOptions {
  config?: string;
  port?: number;
  data?: string;
}

function loadConfig(opts: ConfigOptions): SwitchboardConfig {
  const file = opts.config ?? process.env.SWITCHBOARD_CONFIG;
  const overrides = { port: opts.port, dataDir: opts.data };
  return file ? loadConfigFile(file, overrides) : resolveConfig({}, overrides);
}

function fail(err: unknown): never {
  if (err instanceof ConfigError) process.stderr.write(`switchboard: ${err.message}\n`);
  else if (err instanceof SwitchboardError) process.stderr.write(`switchboard: ${err.code}: ${err.message}\n`);
  else process.stderr.write(`switchboard: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

/**
 * How much V8 lets the old generation grow past what survived the last full collection before
 * the next one, for `serve` (percent; V8's own factor, up to 4×, is for throughput). Under load
 * requests promote a few KiB each into the old generation, which at V8's factor grew the heap
 * to ~130 MB between collections; at 20% the peak RSS at 64 connections fell from 230 to
 * 170 MiB with the same throughput (bench/memory-probe.mjs, docs/performance.md). A value given
 * on node's own command line wins.
 */
export const SERVE_HEAP_GROWING_PERCENT = 20;

async function serve(opts: ConfigOptions): Promise<void> {
  if (!process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) setFlagsFromString(`--heap-growing-percent=${SERVE_HEAP_GROWING_PERCENT}`);
  const config = loadConfig(opts);
  const sb = new Switchboard(config);
  await sb.start();
  const url = sb.url ?? '';
  const tokenFile = join(config.dataDir, 'api-token');
  const lines = [
    `Switchboard ${VERSION} listening on ${url}`,
    `  dashboard  ${url}/`,
    config.store.postgres !== undefined
      ? `  store      postgres ${maskUrl(config.store.postgres)} (durability ${config.store.durability})`
      : `  store      sqlite ${config.store.sqlite ?? ''} (durability ${config.store.durability})`,
    config.server.apiToken
      ? '  API token  from the config / SWITCHBOARD_API_TOKEN'
      : `  API token  ${sb.apiToken}  (${sb.apiTokenGenerated ? 'generated, ' : ''}kept in ${tokenFile})`,
  ];
  for (const c of sb.listConnectors()) {
    lines.push(`  connector  ${c.id} (${c.platform})${c.ingest ? `  POST ${url}/ingest/${c.id}` : ''}`);
  }
  if (!config.connectors) lines.push('  (no config: embedded default, each ingest connector takes the API token as its ingest token)');
  process.stdout.write(`${lines.join('\n')}\n`);
  let closing = false;
  const stop = (sig: string) => {
    if (closing) return;
    closing = true;
    sb.logger.info(`${sig}: finishing in-flight work`);
    void sb.close().then(() => process.exit(0), fail);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function replay(file: string, opts: ConfigOptions & { connector: string; batch: number; progress?: boolean }): Promise<void> {
  const config = loadConfig(opts);
  // Checked before the file is opened and the store is: a wrong id fails at once, whatever the file.
  const known = connectorsOf(config, undefined).map((c) => c.id);
  if (!known.includes(opts.connector)) {
    const where = config.connectors ? `in ${opts.config ?? 'the config'}` : 'in the embedded default (no config file)';
    throw new SwitchboardError('SB_ERR_INGEST_UNKNOWN_CONNECTOR', `unknown connector "${opts.connector}" ${where}; known: ${known.join(', ') || 'none'}`);
  }
  const path = resolve(file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new SwitchboardError('SB_ERR_CONFIG_READ', `cannot read ${file}`);
  }
  // A bulk load: the projections are brought up to date once at the end (each call and
  // conversation once), not in every commit.
  const sb = new Switchboard({ ...config, log: { level: 'warn' } }, { processMetrics: false, bulk: true });
  await sb.start({ listen: false, background: false });
  const totals = { lines: 0, accepted: 0, duplicates: 0, quarantined: 0, entities: 0 };
  let catchUpSeconds: number;
  const started = Date.now();
  const showBar = opts.progress !== false;
  const bar = new SingleBar(
    {
      format: 'replay |{bar}| {percentage}% | {lines} lines | {accepted} accepted, {duplicates} duplicate, {quarantined} quarantined | {eta_formatted} left',
      noTTYOutput: true,
      notTTYSchedule: 2000,
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  if (showBar) bar.start(Math.max(size, 1), 0, totals);
  let bytes = 0;
  let pending: IngestItem[] = [];
  // Two batches in flight: the next one is read and normalized here while the writer thread
  // commits the one before (the committer keeps their order).
  const inflight: Promise<void>[] = [];
  const flush = async (items: IngestItem[], upTo: number) => {
    const r = await sb.ingestItems(opts.connector, items);
    totals.accepted += r.accepted;
    totals.duplicates += r.duplicates;
    totals.quarantined += r.rejected.length;
    if (showBar) bar.update(upTo, totals);
  };
  const send = async () => {
    if (pending.length === 0) return;
    const done = flush(pending, bytes);
    // Handled here so that a failure while the next batch is read is not "unhandled"; awaited below.
    done.catch(() => undefined);
    inflight.push(done);
    pending = [];
    if (inflight.length >= 2) await inflight.shift();
  };
  try {
    // A batch that failed is the first thing to report: a read error after it is a consequence.
    let readError: unknown;
    try {
      const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
      for await (const line of rl) {
        totals.lines++;
        bytes += Buffer.byteLength(line, 'utf8') + 1;
        const item = parseJsonLine(line, totals.lines);
        if (item) pending.push(item);
        if (pending.length >= opts.batch) await send();
      }
      await send();
    } catch (err) {
      readError = err;
    }
    // Every batch handed over is finished (or failed) before the store closes.
    const outcomes = await Promise.allSettled(inflight.splice(0));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    if (readError !== undefined) throw readError;
    if (showBar) {
      bar.update(size, totals);
      bar.stop();
    }
    const catchUpStarted = Date.now();
    totals.entities = await catchUp(sb, showBar);
    catchUpSeconds = (Date.now() - catchUpStarted) / 1000;
  } finally {
    if (showBar) bar.stop();
    await sb.close();
  }
  const secs = (Date.now() - started) / 1000;
  process.stdout.write(
    `replayed ${totals.lines} lines of ${file} into ${opts.connector}: ${totals.accepted} accepted, ${totals.duplicates} duplicate, ${totals.quarantined} quarantined` +
      ` in ${secs.toFixed(1)} s (${Math.round(totals.lines / Math.max(secs, 0.001))} lines/s)\n` +
      `projections of ${totals.entities} calls, conversations and operators brought up to date in ${catchUpSeconds.toFixed(1)} s\n`,
  );
  if (totals.quarantined > 0) process.stdout.write('quarantined payloads are listed by GET /v1/quarantine, each with its reason\n');
}

/**
 * `switchboard replay FILE --archive`: an archive retention wrote (NDJSON, gzip when the name ends
 * in `.gz`), stored again as it is — each event with its id, its connector from its `source`.
 * A line that is not a Switchboard event is reported with its number and skipped; the exit code
 * is then 1.
 */
async function replayArchive(file: string, opts: ConfigOptions & { batch: number; progress?: boolean }): Promise<void> {
  const path = resolve(file);
  if (!existsSync(path)) throw new SwitchboardError('SB_ERR_CONFIG_READ', `cannot read ${file}`);
  const sb = new Switchboard({ ...loadConfig(opts), log: { level: 'warn' } }, { processMetrics: false, bulk: true });
  await sb.start({ listen: false, background: false });
  const totals = { lines: 0, accepted: 0, duplicates: 0, invalid: 0 };
  const started = Date.now();
  let entities: number;
  try {
    const pending = new Map<string, SwitchboardEvent[]>();
    const flush = async (connectorId: string) => {
      const events = pending.get(connectorId) ?? [];
      pending.delete(connectorId);
      const r = await sb.importEvents(connectorId, events);
      totals.accepted += r.accepted;
      totals.duplicates += r.duplicates;
    };
    const input = createReadStream(path);
    const rl = createInterface({ input: path.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
    for await (const line of rl) {
      totals.lines++;
      if (line.trim() === '') continue;
      try {
        const { connectorId, event } = parseArchivedLine(line);
        let list = pending.get(connectorId);
        if (!list) pending.set(connectorId, (list = []));
        list.push(event);
        if (list.length >= opts.batch) await flush(connectorId);
      } catch (err) {
        totals.invalid++;
        if (totals.invalid <= 20) process.stderr.write(`switchboard: line ${totals.lines}: ${(err as Error).message}\n`);
      }
    }
    for (const connectorId of [...pending.keys()]) await flush(connectorId);
    entities = await catchUp(sb, opts.progress !== false);
  } finally {
    await sb.close();
  }
  process.stdout.write(
    `replayed ${totals.lines} lines of the archive ${file}: ${totals.accepted} accepted, ${totals.duplicates} duplicate, ${totals.invalid} not events, in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `projections of ${entities} calls, conversations and operators brought up to date\n`,
  );
  if (totals.invalid > 0) process.exitCode = 1;
}

/** The projections' catch-up after a bulk load, with its own progress bar; answers the entities recomputed. */
async function catchUp(sb: Switchboard, showBar: boolean): Promise<number> {
  const bar = new SingleBar(
    { format: 'projections |{bar}| {percentage}% | {value} of {total} calls, conversations and operators | {eta_formatted} left', noTTYOutput: true, notTTYSchedule: 2000, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  try {
    return await sb.catchUpProjections((done, left) => {
      if (!showBar) return;
      if (!started) {
        started = true;
        bar.start(done + left, done);
      }
      bar.setTotal(done + left);
      bar.update(done);
    });
  } finally {
    if (started) bar.stop();
  }
}

/** `config check`: exits 0 printing the effective config, or (through `fail`) 1 listing every problem. */
function configCheck(opts: ConfigOptions): void {
  const file = opts.config ?? process.env.SWITCHBOARD_CONFIG;
  const config = loadConfig(opts);
  const notes = [
    `${file ?? 'no config file: the embedded default'}: valid`,
    `effective configuration: defaults filled in, durations in milliseconds, secrets shown as ${MASK}`,
    "a connector's own keys left out take the defaults listed in docs/connectors/<platform>.md",
  ];
  if (!config.server.apiToken) notes.push(`server.apiToken not set: generated on the first start and kept in ${join(config.dataDir, 'api-token')}`);
  if (!config.connectors) notes.push('no connectors configured: the embedded default, one ingest connector per push platform, each taking the API token as its ingest token');
  const doc = new Document(effectiveConfig(config));
  doc.commentBefore = notes.map((n) => ` ${n}`).join('\n');
  process.stdout.write(doc.toString({ lineWidth: 0 }));
}

async function migrateCommand(opts: ConfigOptions & { to: string; chunk: number; progress?: boolean }): Promise<void> {
  const config = loadConfig(opts);
  if (config.store.sqlite === undefined) throw new SwitchboardError('SB_ERR_CONFIG_INVALID', 'migrate copies a SQLite store: the config names PostgreSQL as the store already');
  const to = resolveConfig({ store: { postgres: opts.to } }, { env: {} }).store.postgres as string;
  if (!existsSync(config.store.sqlite)) throw new SwitchboardError('SB_ERR_CONFIG_READ', `no SQLite store at ${config.store.sqlite} (--data, or store.sqlite in --config)`);
  process.stderr.write(`migrate: ${config.store.sqlite} → ${maskUrl(to)}\n`);
  const c = await migrate({ from: config.store.sqlite, to, progress: opts.progress !== false, chunk: opts.chunk });
  process.stdout.write(
    `migrated ${c.events} events${c.eventsBefore > 0 ? ` (resumed after sequence ${c.eventsBefore})` : ''}, ${c.quarantine} quarantined, ${c.subscriptions} subscriptions, ${c.cursors} cursors, ${c.kv} kv entries; ` +
      `projections of ${c.projections} calls, conversations and operators brought up to date in ${c.seconds.toFixed(1)} s\n`,
  );
}

async function rebuild(opts: ConfigOptions): Promise<void> {
  const config = loadConfig(opts);
  const sb = new Switchboard({ ...config, log: { level: 'warn' } }, { processMetrics: false });
  await sb.start({ listen: false, background: false });
  const started = Date.now();
  process.stderr.write('rebuilding the projections from the event log…\n');
  try {
    const counts = await sb.rebuild();
    const parts = Object.values(counts).flatMap((c) => Object.entries(c).map(([k, n]) => `${n} ${k}`));
    process.stdout.write(`rebuilt ${parts.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await sb.close();
  }
}

interface EraseOptions extends ConfigOptions {
  phone?: string;
  userId?: string;
  contactId?: string;
  by?: string;
  reason?: string;
  resume?: boolean;
  chunk?: number;
}

function printErasure(r: ErasureRecord): void {
  const c = r.counts;
  process.stdout.write(
    `erasure ${r.id} (${r.kind}, requested by ${r.requestedBy}): ${c.events} events, ${c.quarantine} quarantine entries, ${c.projections} projection rows, ${c.deliveries} deliveries, ${c.kv} cached entries removed\n`,
  );
}

async function erase(opts: EraseOptions): Promise<void> {
  const given = [opts.phone, opts.userId, opts.contactId].filter((x) => x !== undefined).length;
  if (given === 0 && opts.resume !== true) throw new SwitchboardError('SB_ERR_ERASURE_INVALID', 'erase: give one of --phone, --user-id, --contact-id (with --by), or --resume');
  if (given > 0 && (opts.by === undefined || opts.by.trim() === '')) throw new SwitchboardError('SB_ERR_ERASURE_INVALID', 'erase: --by is required: who asked (a name or a ticket), kept in the record');
  const config = loadConfig(opts);
  const sb = new Switchboard({ ...config, log: { level: 'warn' } }, { processMetrics: false });
  await sb.start({ listen: false, background: false });
  try {
    // Those a crash left unfinished first: they were asked for earlier.
    for (const r of await sb.resumeErasures({ chunk: opts.chunk })) printErasure(r);
    if (given > 0) printErasure(await sb.erase({ phone: opts.phone, userId: opts.userId, contactId: opts.contactId, requestedBy: opts.by ?? '', reason: opts.reason }, { chunk: opts.chunk }));
    process.stdout.write(`${OUT_OF_REACH}\n`);
  } finally {
    await sb.close();
  }
}

interface EventsOptions {
  url: string;
  token?: string;
  data?: string;
  follow?: boolean;
  /** `--no-history` sets it false. */
  history: boolean;
  type?: string;
  platform?: string;
  subject?: string;
  connector?: string;
  after?: string;
  limit?: number;
  json?: boolean;
}

/** Recent events `--follow` prints before following, unless `--limit` says otherwise. */
const FOLLOW_HISTORY = 20;

function tokenFor(opts: EventsOptions): string {
  if (opts.token) return opts.token;
  if (process.env.SWITCHBOARD_API_TOKEN) return process.env.SWITCHBOARD_API_TOKEN;
  const file = join(resolve(opts.data ?? process.env.SWITCHBOARD_DATA ?? './data'), 'api-token');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new SwitchboardError('SB_ERR_AUTH_REQUIRED', `no API token: pass --token, set SWITCHBOARD_API_TOKEN, or run where ${file} exists`);
  }
}

interface PrintedEvent {
  sequence?: string;
  time?: string;
  type?: string;
  subject?: string;
}

function printEvent(json: string, asJson: boolean | undefined): void {
  if (asJson) {
    process.stdout.write(`${json}\n`);
    return;
  }
  const e = JSON.parse(json) as PrintedEvent;
  process.stdout.write(`${e.sequence ?? ''}  ${e.time ?? ''}  ${(e.type ?? '').padEnd(32)} ${e.subject ?? ''}\n`);
}

interface EventsPage {
  events: PrintedEvent[];
  next: string | null;
}

/** `GET /v1/events` of a running server. */
class EventsApi {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  /** The filters: type, platform, subject, connector. */
  readonly filters = new URLSearchParams();

  constructor(opts: EventsOptions) {
    this.base = opts.url.replace(/\/$/, '');
    this.headers = { authorization: `Bearer ${tokenFor(opts)}` };
    for (const key of ['type', 'platform', 'subject', 'connector'] as const) {
      const v = opts[key];
      if (v !== undefined) this.filters.set(key, v);
    }
  }

  async page(params: Record<string, string>, filtered = true): Promise<EventsPage> {
    const p = new URLSearchParams(filtered ? this.filters : undefined);
    for (const [k, v] of Object.entries(params)) p.set(k, v);
    const res = await fetch(`${this.base}/v1/events?${p}`, { headers: this.headers });
    if (res.status === 401) throw new SwitchboardError('SB_ERR_AUTH_REQUIRED', 'the server refused the API token');
    if (!res.ok) throw new SwitchboardError('SB_ERR_INTERNAL', `GET /v1/events answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as EventsPage;
  }

  /** Matching events after `after`, oldest first, at most `limit` (all without one). */
  async *forward(after: string, limit = Infinity): AsyncGenerator<PrintedEvent> {
    let left = limit;
    for (let cursor = after; left > 0; ) {
      const page = await this.page({ after: cursor, limit: String(Math.min(1000, left)) });
      for (const e of page.events) yield e;
      left -= page.events.length;
      if (!page.next) return;
      cursor = page.next;
    }
  }

  /** The last `n` matching events, oldest first. */
  async last(n: number): Promise<PrintedEvent[]> {
    const out: PrintedEvent[] = [];
    for (let before: string | undefined; out.length < n; ) {
      const page = await this.page({ order: 'desc', limit: String(Math.min(1000, n - out.length)), ...(before ? { before } : {}) });
      out.push(...page.events);
      if (!page.next) break;
      before = page.next;
    }
    return out.reverse();
  }

  /** The sequence of the newest event the server holds, whatever the filters; "0" when none. */
  async latest(): Promise<string> {
    return (await this.page({ order: 'desc', limit: '1' }, false)).events[0]?.sequence ?? '0';
  }

  /** Follows `GET /v1/stream` after `after`, reconnecting after drops; never returns. */
  async follow(after: string, onEvent: (json: string) => void): Promise<never> {
    let lastId = after;
    for (;;) {
      try {
        const res = await fetch(`${this.base}/v1/stream?${this.filters}`, { headers: { ...this.headers, accept: 'text/event-stream', 'last-event-id': lastId } });
        if (res.status === 401) throw new SwitchboardError('SB_ERR_AUTH_REQUIRED', 'the server refused the API token');
        if (res.status === 400) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `GET /v1/stream answered 400: ${await res.text()}`);
        if (!res.ok || !res.body) throw new Error(`GET /v1/stream answered ${res.status}`);
        const parser = createParser({
          onEvent: (msg) => {
            if (msg.id) lastId = msg.id;
            onEvent(msg.data);
          },
        });
        const decoder = new TextDecoder();
        for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      } catch (err) {
        if (err instanceof SwitchboardError) throw err;
        process.stderr.write(`switchboard: stream interrupted (${err instanceof Error ? err.message : String(err)}); reconnecting\n`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * Without `--follow`: every matching event (after `--after`), or with `--limit N` the last N (the
 * first N after `--after`). With `--follow`: the last `--limit` (20) matching events, then new ones
 * as they are committed; `--no-history` only new ones; `--after SEQ` everything after SEQ and on.
 * History and stream meet at one sequence, so nothing is missed or printed twice.
 */
async function events(opts: EventsOptions): Promise<void> {
  if (opts.follow && opts.after !== undefined && (!opts.history || opts.limit !== undefined)) {
    throw new SwitchboardError('SB_ERR_QUERY_INVALID', `--after prints everything after that sequence, then follows: it does not go with ${opts.history ? '--limit' : '--no-history'}`);
  }
  const api = new EventsApi(opts);
  const print = (e: PrintedEvent) => printEvent(JSON.stringify(e), opts.json);

  if (!opts.follow) {
    if (opts.after === undefined && opts.limit !== undefined) for (const e of await api.last(opts.limit)) print(e);
    else for await (const e of api.forward(opts.after ?? '0', opts.limit)) print(e);
    return;
  }

  let start = opts.after;
  if (start === undefined) {
    // Read before the history: every event up to it is committed, so a matching one is either
    // in the history or after the point the stream starts from.
    const latest = await api.latest();
    const recent = opts.history ? await api.last(opts.limit ?? FOLLOW_HISTORY) : [];
    for (const e of recent) print(e);
    const newest = recent[recent.length - 1]?.sequence;
    start = newest !== undefined && BigInt(newest) > BigInt(latest) ? newest : latest;
  }
  process.stderr.write(`switchboard: following events after sequence ${BigInt(start)} (Ctrl-C to stop)\n`);
  await api.follow(start, (json) => printEvent(json, opts.json));
}

const program = new Command('switchboard')
  .version(VERSION)
  .description('One listener for contact-center and messenger event feeds.')
  .showHelpAfterError();

const configOptions = (cmd: Command) =>
  cmd
    .addOption(new Option('-c, --config <file>', 'config file (YAML or JSON)').env('SWITCHBOARD_CONFIG'))
    .addOption(new Option('-d, --data <dir>', 'data folder (SQLite file, API token)').env('SWITCHBOARD_DATA'));

configOptions(program.command('serve').description('run the server (no config: SQLite in ./data, port 8080)'))
  .addOption(new Option('-p, --port <port>', 'HTTP port').argParser(parsePort).env('SWITCHBOARD_PORT'))
  .action((opts: ConfigOptions) => serve(opts).catch(fail));

configOptions(program.command('replay').description('feed recorded native payloads (JSON lines) through the pipeline, or (--archive) store again the events of an archive').argument('<file>', 'JSON lines file (gzip when it ends in .gz)'))
  .option('--connector <id>', 'connector the payloads belong to (not with --archive: each event names its own)')
  .option('--archive', 'the file is an archive retention wrote (docs/privacy.md): Switchboard events, stored as they are')
  .addOption(new Option('--batch <n>', 'payloads per commit').argParser(parsePositive).default(5000))
  .option('--no-progress', 'no progress bar')
  .action((file: string, opts: ConfigOptions & { connector?: string; archive?: boolean; batch: number; progress?: boolean }) => {
    if (opts.archive === true) return replayArchive(file, opts).catch(fail);
    if (opts.connector === undefined) return fail(new SwitchboardError('SB_ERR_CONFIG_INVALID', "replay: --connector <id> is required (the connector the payloads belong to), or --archive for an archive's events"));
    return replay(file, { ...opts, connector: opts.connector }).catch(fail);
  });

configOptions(program.command('migrate').description('copy the SQLite store (events, quarantine, subscriptions, cursors, kv) into PostgreSQL and rebuild the projections there; resumes when run again'))
  .requiredOption('--to <url>', 'the PostgreSQL database: postgres://user:password@host:5432/database')
  .addOption(new Option('--chunk <n>', 'events per transaction').argParser(parsePositive).default(5000))
  .option('--no-progress', 'no progress bar')
  .action((opts: ConfigOptions & { to: string; chunk: number; progress?: boolean }) => migrateCommand(opts).catch(fail));

configOptions(program.command('rebuild').description('recompute every projection (calls, conversations, operators) from the event log')).action((opts: ConfigOptions) =>
  rebuild(opts).catch(fail),
);

configOptions(
  program
    .command('erase')
    .description("erase one person's data from the store: every event, quarantine entry, projection row, delivery and cached name that names them (as POST /v1/erasures); resumes an erasure a crash interrupted")
    .option('--phone <number>', 'a phone number (digits; spaces, +, -, brackets ignored)')
    .option('--user-id <id>', 'a platform user id')
    .option('--contact-id <id>', 'a contact id (e.g. a GREEN-API chat id)')
    .option('--by <who>', 'who asked: a name or a ticket, kept in the record')
    .option('--reason <text>', 'why, for the record')
    .option('--resume', 'only finish the erasures a crash or a stop interrupted')
    .addOption(new Option('--chunk <n>', 'sequences of the log looked at per transaction').default(2000).argParser(parsePositive)),
).action((opts: EraseOptions) => erase(opts).catch(fail));

configOptions(
  program
    .command('config')
    .description('configuration tools')
    .command('check')
    .description('validate the config and print it as it takes effect (defaults filled in, secrets masked); exit 0 when valid, 1 listing every problem'),
).action((opts: ConfigOptions) => {
  try {
    configCheck(opts);
  } catch (err) {
    fail(err);
  }
});

program
  .command('events')
  .description('print events from a running server (GET /v1/events, and /v1/stream with --follow)')
  .option('-f, --follow', `keep printing new events as they arrive, after the last ${FOLLOW_HISTORY} (--limit) matching ones`)
  .option('--no-history', 'with --follow: only events committed from now on')
  .option('-t, --type <pattern>', 'type pattern, e.g. "call.*" or "call.ended,message.*"')
  .addOption(new Option('--platform <platform>', 'only events of this platform').choices(PLATFORMS))
  .option('--subject <subject>', 'only events of this subject, e.g. "call/C1", or a prefix ending in * ("conversation/*")')
  .option('--connector <id>', 'only events of this connector')
  .addOption(new Option('-n, --limit <n>', `how many: the last N matching events (the first N after --after); default all, with --follow ${FOLLOW_HISTORY}`).argParser(parsePositive))
  .addOption(new Option('--after <sequence>', 'start after this sequence (with --follow: print everything after it, then follow)').argParser(parseSequence))
  .addOption(new Option('--url <url>', 'server address').default('http://127.0.0.1:8080').env('SWITCHBOARD_URL'))
  .option('--token <token>', 'API token (default: SWITCHBOARD_API_TOKEN, then DATA/api-token)')
  .addOption(new Option('-d, --data <dir>', 'data folder holding api-token').env('SWITCHBOARD_DATA'))
  .option('--json', 'print each event as one JSON line')
  .action((opts: EventsOptions) => events(opts).catch(fail));

program
  .command('simulate')
  .description('run a platform simulator: serve its native API with a scenario queued, or deliver it to --target; exits 1 when the target refused any delivery')
  .argument('<platform>', 'greenapi, twin, connect1c, widget, threads')
  .argument('[scenario]', 'scenario name (omit or --list to list them)')
  .option('--target <url>', 'deliver to this URL as the platform (greenapi webhooks) or its relay (widget, threads, connect1c) would, e.g. http://127.0.0.1:8080/ingest/greenapi; not for twin, which Switchboard connects to')
  .option('--token <token>', 'token sent as Authorization: Bearer <token> with --target (the connector\'s ingestToken)')
  .addOption(new Option('--port <port>', 'port of the simulated API').argParser(parsePort).default(7080))
  .option('--instance <id>', 'simulated idInstance', '1101000001')
  .option('--api-token <token>', 'simulated apiTokenInstance', 'sim-api-token')
  .addOption(new Option('--retry-delay <ms>', 'greenapi --target: wait before a webhook is sent again after a 5xx or no answer (GREEN-API: 60000)').argParser(parsePositive).default(60_000))
  .addOption(new Option('--give-up-after <ms>', 'greenapi --target: a webhook still refused this long after it was first sent counts as refused (GREEN-API: 24 h)').argParser(parsePositive).default(86_400_000))
  .option('--pipe <path>', 'connect1c: socket path to listen on (default: a temporary path)')
  .addOption(new Option('--form <form>', 'widget: web postMessage messages or mobile SDK codes').choices(['web', 'mobile']).default('web'))
  .option('--list', 'list the scenarios')
  .action((platform: string, scenario: string | undefined, opts: SimulateOptions) => simulate(platform, scenario, opts).catch(fail));

await program.parseAsync(process.argv);
