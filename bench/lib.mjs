/**
 * Shared helpers of the benchmarks: child servers on loopback ports with temp data folders,
 * GREEN-API payload generators, /proc sampling, percentiles, machine facts, result files.
 *
 * Every benchmark runs against the BUILT server (`dist/`, `npm run build`). `BENCH_ROOT` points
 * at another built checkout (default: this repository).
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync, openSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(BENCH_DIR, '..');
export const ROOT = resolve(process.env.BENCH_ROOT ?? REPO);
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const RESULTS_DIR = resolve(process.env.BENCH_RESULTS ?? join(BENCH_DIR, 'results'));
export const TMP = resolve(process.env.BENCH_TMP ?? tmpdir());

/** `BENCH_SCALE` (default 1) scales counts and durations down (or up) for quick runs. */
export const SCALE = Number(process.env.BENCH_SCALE ?? 1);
if (!(SCALE > 0)) throw new Error(`BENCH_SCALE: expected a positive number, found ${process.env.BENCH_SCALE}`);

/** A numeric knob: positive, or with `{ zero: true }` also 0 (e.g. `BENCH_SUBSCRIBERS=0`). */
export function envInt(name, fallback, { zero = false } = {}) {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zero)) throw new Error(`${name}: expected a ${zero ? 'non-negative' : 'positive'} number, found ${v}`);
  return n;
}

export function requireBuilt() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (or set BENCH_ROOT to a built checkout)`);
}

// Children and temp folders still alive, so that an interrupted run leaves nothing behind.
const liveChildren = new Set();
const liveDirs = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const c of liveChildren) c.kill('SIGKILL');
    if (!process.env.BENCH_KEEP) for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
    process.exit(130);
  });
}

export function tempDir(prefix) {
  mkdirSync(TMP, { recursive: true });
  const dir = mkdtempSync(join(TMP, `sb-bench-${prefix}-`));
  liveDirs.add(dir);
  return dir;
}

export { liveChildren };

export function removeDir(dir) {
  liveDirs.delete(dir);
  if (process.env.BENCH_KEEP) return;
  rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ─── child processes ─────────────────────────────────────────────────────────────────────────

/**
 * Spawns a node process and waits until a line of its stdout matches `ready`; resolves with the
 * match. The child's stderr is kept (last 64 KiB) for error messages.
 */
export function startChild(args, { ready, env = {}, cwd = ROOT, timeoutMs = 30_000, name = 'child' } = {}) {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-65536);
  });
  child.stdout.setEncoding('utf8');
  const matched = new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: not ready after ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    child.stdout.on('data', (d) => {
      stdout = (stdout + d).slice(-65536);
      const m = ready.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolveReady(m);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready\n${stderr}`));
    });
  });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return {
    child,
    pid: child.pid,
    matched,
    exited,
    stderr: () => stderr,
    stdout: () => stdout,
    /** SIGTERM, then SIGKILL after `graceMs`. */
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

/** Runs a node script to completion; resolves with its stdout (rejects on a non-zero exit). */
export function runNode(args, { env = {}, cwd = ROOT } = {}) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-65536)));
    child.on('exit', (code, signal) => {
      if (code === 0) resolveRun({ stdout: out, stderr: err });
      else reject(new Error(`node ${args.join(' ')} exited (${code ?? signal})\n${err}`));
    });
  });
}

/**
 * Starts the built Switchboard (`node dist/cli/main.js serve`) on a free loopback port with a
 * temp data folder and, by default, one GREEN-API ingest connector `wa`. `nodeArgs` e.g.
 * `['--cpu-prof']`; `connectors` other `connectors[]` entries (each given an ingest token, in
 * `tokens` by id; `ingestToken`/`ingestPath` are the first one's).
 */
/**
 * A fresh PostgreSQL database on BENCH_POSTGRES (default: the local server, user postgres, trust
 * authentication), made with `createdb`; `drop()` removes it.
 */
export function createBenchDatabase() {
  const base = new URL(process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `sb_bench_${randomBytes(5).toString('hex')}`;
  const args = ['-h', base.hostname, '-p', base.port || '5432', '-U', decodeURIComponent(base.username || 'postgres')];
  const env = base.password ? { ...process.env, PGPASSWORD: decodeURIComponent(base.password) } : process.env;
  execFileSync('createdb', [...args, name], { env });
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => execFileSync('dropdb', [...args, '--force', '--if-exists', name], { env }) };
}

export async function startSwitchboard({ nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), durability = process.env.BENCH_DURABILITY ?? 'full', logLevel = 'warn', dir = tempDir('sb'), connectors = [{ id: 'wa', platform: 'greenapi' }], postgres = false } = {}) {
  requireBuilt();
  const apiToken = `api-${randomBytes(12).toString('hex')}`;
  const entries = connectors.map((c) => ({ ...c, ingestToken: c.ingestToken ?? `ingest-${randomBytes(12).toString('hex')}` }));
  const tokens = Object.fromEntries(entries.map((c) => [c.id, c.ingestToken]));
  const ingestToken = entries[0]?.ingestToken;
  const db = join(dir, 'switchboard.db');
  const pg = postgres ? createBenchDatabase() : undefined;
  const config = {
    server: { port: 0, host: '127.0.0.1', apiToken },
    store: pg ? { postgres: pg.url, durability } : { sqlite: db, durability },
    log: { level: logLevel },
    connectors: entries,
  };
  const configFile = join(dir, 'switchboard.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const proc = startChild([...nodeArgs, CLI, 'serve', '--config', configFile, '--data', dir], { ready: /listening on (http:\/\/\S+)/, name: 'switchboard', cwd: dir });
  const m = await proc.matched;
  const url = m[1];
  return {
    ...proc,
    url,
    dir,
    db,
    apiToken,
    ingestToken,
    tokens,
    ingestPath: `/ingest/${entries[0]?.id}`,
    postgres: pg?.url,
    /** Events stored, as `GET /v1/connectors` counts them (either store). */
    async storedEvents() {
      const res = await fetch(`${url}/v1/connectors`, { headers: { authorization: `Bearer ${apiToken}` } });
      return (await res.json()).connectors.reduce((n, c) => n + c.events, 0);
    },
    async cleanup() {
      await proc.stop();
      pg?.drop();
      removeDir(dir);
    },
  };
}

/** Starts one of the comparison servers in `bench/servers/` (prints `listening <port>`). */
export async function startBaseline(script, env = {}) {
  const dir = tempDir('base');
  const proc = startChild([join(BENCH_DIR, 'servers', script)], { ready: /listening (\d+)/, env: { BENCH_DATA: dir, ...env }, name: script });
  const m = await proc.matched;
  return {
    ...proc,
    url: `http://127.0.0.1:${m[1]}`,
    dir,
    async cleanup() {
      await proc.stop();
      removeDir(dir);
    },
  };
}

// ─── /proc ───────────────────────────────────────────────────────────────────────────────────

/** VmRSS and VmHWM (peak RSS) of a process, in bytes; undefined once it is gone. */
export function memoryOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    const m = { rss: kb('VmRSS'), hwm: kb('VmHWM') };
    // A process that has exited but is not yet reaped (zombie) has no Vm* lines.
    return Number.isFinite(m.rss) && Number.isFinite(m.hwm) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors of a process (entries of /proc/<pid>/fd); undefined once it is gone. */
export function fdCountOf(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** What a process's file descriptors point at, by kind: socket, pipe, anon_inode, file (by path), … */
export function fdKindsOf(pid) {
  const kinds = {};
  let names;
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const n of names) {
    let target;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${n}`);
    } catch {
      continue; // closed meanwhile
    }
    // socket:[123] → socket; anon_inode:[eventpoll] as is; a file by its name (the temp folder differs per run)
    const kind = /^(socket|pipe):/.exec(target)?.[1] ?? (target.startsWith('/') && !target.startsWith('/dev/') ? `file ${target.replace(/^.*\//, '')}` : target);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

/** CPU time (user+system, seconds) of a process. */
export function cpuSecondsOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return ticks / 100;
  } catch {
    return undefined;
  }
}

/** Polls a process's RSS every `everyMs`; `stop()` answers the peak seen and the kernel's VmHWM. */
export function sampleMemory(pid, everyMs = 100) {
  let peakRss = 0;
  let hwm = 0;
  const tick = () => {
    const m = memoryOf(pid);
    if (!m) return;
    peakRss = Math.max(peakRss, m.rss);
    hwm = Math.max(hwm, m.hwm);
  };
  tick();
  const t = setInterval(tick, everyMs);
  return {
    stop() {
      tick();
      clearInterval(t);
      return { peakRss, hwm };
    },
  };
}

// ─── numbers ─────────────────────────────────────────────────────────────────────────────────

/** Percentile (0..100) of a sorted numeric array (nearest rank). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const round = (x, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
export const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : String(x));
export const mib = (bytes) => bytes / 1024 / 1024;

// ─── GREEN-API payloads ──────────────────────────────────────────────────────────────────────

const INSTANCE = { idInstance: 1101000001, wid: '79876543210@c.us', typeInstance: 'whatsapp' };
const NAMES = ['Ivan Petrov', 'Анна Смирнова', 'Olga', 'Dmitry K.', 'Мария', 'Sergey Ivanov', 'Elena', 'Pavel'];
const TEXTS = [
  'Здравствуйте! Когда откроетесь?',
  'Hello, I would like to check the status of my order 48213, please.',
  'Спасибо, всё получил.',
  'Can you call me back after 6 pm?',
  'Добрый день, подскажите стоимость доставки в Казань',
];

/**
 * Makes distinct GREEN-API notifications in a fixed rotation: `incomingCall` offer, the final
 * `incomingCall` of that call (hangUp / declined / missed), an `incomingMessageReceived`
 * textMessage. Every call and message has a fresh `idMessage` (run id + counter), so nothing
 * dedupes; callers and chats come from pools of `chats` numbers, so conversations grow as in a
 * real contact centre.
 */
export function greenApiGenerator({ chats = 1000, runId = randomBytes(4).toString('hex').toUpperCase(), start = 0 } = {}) {
  let n = start;
  const finals = ['hangUp', 'declined', 'missed'];
  const chatOf = (k) => `7900${String(1_000_000 + (k % chats)).slice(1)}0@c.us`;
  const idOf = (kind, k) => `${runId}${kind}${k.toString(16).toUpperCase().padStart(23, '0')}`;
  const baseTs = 1_717_000_000;
  return {
    runId,
    get count() {
      return n;
    },
    /** The next payload as an object; `text` overrides the message text (B3 embeds a timestamp). */
    next(text) {
      const i = n++;
      const k = Math.floor(i / 3);
      const kind = i % 3;
      const ts = baseTs + i;
      if (kind === 0 || kind === 1) {
        const caller = chatOf(k * 7);
        return {
          from: caller,
          typeWebhook: 'incomingCall',
          instanceData: INSTANCE,
          status: kind === 0 ? 'offer' : finals[k % finals.length],
          timestamp: kind === 0 ? ts : ts + 9,
          idMessage: idOf('C', k),
        };
      }
      const chatId = chatOf(k);
      const name = NAMES[k % NAMES.length];
      return {
        typeWebhook: 'incomingMessageReceived',
        instanceData: INSTANCE,
        timestamp: ts,
        idMessage: idOf('M', k),
        senderData: { chatId, chatName: name, sender: chatId, senderName: name, senderContactName: name },
        messageData: {
          typeMessage: 'textMessage',
          textMessageData: { textMessage: text ?? TEXTS[k % TEXTS.length], isForwarded: false, forwardingScore: 0 },
        },
      };
    },
    /** A text message only (B3). */
    message(text) {
      const k = n++;
      const chatId = chatOf(k);
      const name = NAMES[k % NAMES.length];
      return {
        typeWebhook: 'incomingMessageReceived',
        instanceData: INSTANCE,
        timestamp: baseTs + k,
        idMessage: idOf('L', k),
        senderData: { chatId, chatName: name, sender: chatId, senderName: name, senderContactName: name },
        messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: text, isForwarded: false, forwardingScore: 0 } },
      };
    },
  };
}

// ─── SQLite files ────────────────────────────────────────────────────────────────────────────

/**
 * Opens a (closed) Switchboard database, checkpoints the WAL (TRUNCATE) and answers its event
 * count, file sizes and the space by table/index (dbstat).
 */
export async function inspectDb(path) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const events = db.prepare('SELECT count(*) AS n FROM events').get().n;
    const avgBody = db.prepare('SELECT avg(length(body)) AS b FROM events').get().b ?? 0;
    let objects = [];
    try {
      objects = db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all();
    } catch {
      // dbstat not compiled in
    }
    const size = (p) => (existsSync(p) ? statSync(p).size : 0);
    return { events, avgBody, dbBytes: size(path), walBytes: size(`${path}-wal`), objects };
  } finally {
    db.close();
  }
}

// ─── machine ────────────────────────────────────────────────────────────────────────────────

/** fsync latency of the data folder's file system: 200 × (append 1 KiB + fdatasync). */
export function fsyncLatency(dir = TMP) {
  const file = join(tempDir('fsync'), 'probe');
  const fd = openSync(file, 'w');
  const buf = Buffer.alloc(1024, 1);
  const times = [];
  try {
    for (let i = 0; i < 200; i++) {
      writeSync(fd, buf);
      const t = process.hrtime.bigint();
      fsyncSync(fd);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  } finally {
    closeSync(fd);
    removeDir(dirname(file));
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), dir };
}

export function machine() {
  const c = cpus();
  let fs = '';
  try {
    fs = execFileSync('df', ['-T', TMP], { encoding: 'utf8' }).split('\n')[1]?.split(/\s+/)[1] ?? '';
  } catch {
    // df missing
  }
  let commit = '';
  let dirty = false;
  try {
    const git = (args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    commit = git(['rev-parse', '--short', 'HEAD']);
    dirty = git(['status', '--porcelain', '--', 'src', 'migrations']) !== '';
  } catch {
    // not a git checkout (BENCH_ROOT pointing at a copy of a build)
  }
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    tmpFs: fs,
    commit,
    dirty,
    loadavg: loadavg().map((x) => round(x, 2)),
  };
}

export const loadNow = () => loadavg().map((x) => round(x, 2));

// ─── results ────────────────────────────────────────────────────────────────────────────────

export function saveResult(name, result) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2)}\n`);
  return file;
}

export function loadResult(name) {
  try {
    return JSON.parse(readFileSync(join(RESULTS_DIR, `${name}.json`), 'utf8'));
  } catch {
    return undefined;
  }
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url) {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(url);
}

export function log(...args) {
  process.stderr.write(`${args.join(' ')}\n`);
}
