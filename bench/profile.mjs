/**
 * Where the time goes: runs the built server under `node --cpu-prof` during B1-style webhook load
 * and `switchboard replay` (B2-style) under `--cpu-prof`, then summarises the profiles: self time
 * by function and by category (zod validation, SHA-256, JSON, SQLite, projections, Fastify, …)
 * and inclusive time of the pipeline's stages.
 *
 *   node bench/profile.mjs [b1|b2|b3|all]   # BENCH_PROFILE_SECONDS=15 BENCH_PROFILE_LINES=200000
 *   node bench/profile.mjs FILE.cpuprofile  # summarise an existing profile
 * Profiles are kept in bench/results/*.cpuprofile (open them in Chrome DevTools → Performance).
 */
import { fork } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Pool } from 'undici';
import { runOne } from './b1-webhook.mjs';
import { timeReplay, writeLines } from './b2-replay.mjs';
import { BENCH_DIR, RESULTS_DIR, envInt, isMain, liveChildren, loadNow, log, removeDir, round, saveResult, sleep, startSwitchboard, tempDir, greenApiGenerator } from './lib.mjs';

// ─── analysis ───────────────────────────────────────────────────────────────────────────────

/** Native functions of better-sqlite3 (they appear without a script URL). */
const SQLITE_NATIVE = new Set(['run', 'all', 'get', 'iterate', 'exec', 'prepare', 'pragma', 'raw', 'pluck', 'expand', 'bind', 'columns']);

function categoryOf(frame) {
  const { functionName: fn, url } = frame;
  if (fn === '(idle)') return 'idle (waiting for I/O)';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native, unattributed';
  if (fn === '(root)') return 'other';
  if (!url) {
    if (SQLITE_NATIVE.has(fn)) return 'SQLite (native: statements, commit + fsync)';
    if (/^(parse|stringify)$/.test(fn)) return 'JSON parse/stringify';
    if (/^(writev?|writeUtf8String|writeBuffer|shutdown|close|read|onStreamRead)$/.test(fn)) return 'socket I/O (native)';
    if (/^(digest|update|Hash|createHash|timingSafeEqual)$/.test(fn)) return 'node:crypto';
    return `other native/builtin`;
  }
  if (url.startsWith('node:internal/crypto')) return 'node:crypto (ingest token check)';
  if (url.includes('/zod/')) return 'zod validation';
  if (url.includes('/core/sha256.js')) return 'SHA-256 (JS, core/sha256)';
  if (url.includes('/canonicalize/')) return 'canonicalize';
  // better-sqlite3 calls are synchronous C++ callbacks: V8 books their time (SQLite's own work,
  // fsync included) as self time of the JS function that made the call.
  if (url.includes('/better-sqlite3/')) return 'SQLite BEGIN/COMMIT incl. fsync (better-sqlite3 transaction)';
  if (url.includes('/server/projections/')) return 'projections: recompute queries (JS + the SQLite they run)';
  if (url.includes('/server/store/')) return 'store: INSERT/SELECT (JS + the SQLite they run)';
  if (url.includes('/core/')) return 'core: events, schemas (JS)';
  if (url.includes('/connectors/')) return 'connector normalizer (JS)';
  if (url.includes('/@fastify/cors/')) return 'CORS (@fastify/cors, per request)';
  if (url.includes('/server/http/') || url.includes('/fastify/') || url.includes('/@fastify/') || url.includes('/find-my-way/') || url.includes('/light-my-request/') || url.includes('/avvio/') || url.includes('fast-json-stringify') || url.includes('/fast-querystring/') || url.includes('/secure-json-parse/')) return 'Fastify + HTTP routes';
  if (url.includes('/pino') || url.includes('/@pinojs/') || url.includes('/sonic-boom/')) return 'pino logging';
  if (url.includes('/prom-client/')) return 'prom-client metrics';
  if (url.includes('/server/')) return 'server (pipeline, follow, bus)';
  if (url.includes('/cli/') || url.includes('/commander/') || url.includes('/cli-progress/')) return 'cli (replay loop)';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:internal/http') || url.startsWith('node:_http') || url.startsWith('node:http') || url.startsWith('node:net') || url.startsWith('node:internal/net') || url.includes('stream_base_commons')) return 'node http/net/streams';
  if (url.startsWith('node:internal/readline') || url.startsWith('node:readline')) return 'node readline';
  if (url.startsWith('node:')) return 'node internals (timers, promises, events, …)';
  return 'other JS';
}

/** Frames whose samples (and their callees') are start-up work, not the measured load. */
const isStartupFrame = (f) =>
  f.url.startsWith('node:internal/modules/') ||
  (f.url.includes('/dist/') && ((f.functionName === 'serve' && f.url.includes('/cli/main.js')) || (f.functionName === 'start' && f.url.includes('/server/switchboard.js')) || f.functionName === 'Switchboard' || f.functionName === 'migrate'));
const STARTUP = 'start-up (module loading, config, logger, migrations)';

const shortUrl = (url) => url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');

/** Summarises a .cpuprofile: self time by category and function, inclusive time of named stages. */
export function analyzeProfile(file, { top = 25, stages = STAGES } = {}) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  let total = 0;
  let idle = 0;
  let startupUs = 0;
  const cats = new Map();
  const fns = new Map();
  const incl = new Map(stages.map((s) => [s.name, 0]));
  const startup = new Map();
  const isStartup = (id) => {
    if (id === undefined) return false;
    let v = startup.get(id);
    if (v === undefined) {
      v = isStartupFrame(byId.get(id).callFrame) || isStartup(parent.get(id));
      startup.set(id, v);
    }
    return v;
  };
  for (const [id, us] of self) {
    const node = byId.get(id);
    const f = node.callFrame;
    total += us;
    if (f.functionName === '(idle)') idle += us;
    const cat = isStartup(id) ? STARTUP : categoryOf(f);
    if (cat === STARTUP) {
      startupUs += us;
      cats.set(cat, (cats.get(cat) ?? 0) + us);
      continue;
    }
    cats.set(cat, (cats.get(cat) ?? 0) + us);
    const key = `${f.functionName || '(anonymous)'}  ${f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '(native)'}`;
    fns.set(key, { us: (fns.get(key)?.us ?? 0) + us, cat });
    // inclusive: walk up the stack once per stage
    const seen = new Set();
    for (let a = id; a !== undefined; a = parent.get(a)) {
      const af = byId.get(a).callFrame;
      for (const s of stages) {
        if (!seen.has(s.name) && s.match(af)) {
          seen.add(s.name);
          incl.set(s.name, incl.get(s.name) + us);
        }
      }
    }
  }
  // Busy: samples neither idle nor start-up — the measured load.
  const busy = total - idle - startupUs;
  const pct = (us, of) => round((100 * us) / Math.max(of, 1), 1);
  return {
    file: basename(file),
    seconds: round(total / 1e6, 1),
    busySeconds: round(busy / 1e6, 1),
    busyPct: pct(busy, total - startupUs),
    startupSeconds: round(startupUs / 1e6, 2),
    categories: [...cats].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: round(us / 1e3, 0), pctOfTotal: pct(us, total), pctOfBusy: name.startsWith('idle') || name === STARTUP ? undefined : pct(us, busy) })),
    functions: [...fns].sort((a, b) => b[1].us - a[1].us).slice(0, top).map(([name, v]) => ({ name, category: v.cat, ms: round(v.us / 1e3, 0), pctOfBusy: pct(v.us, busy) })),
    stages: stages.map((s) => ({ name: s.name, ms: round(incl.get(s.name) / 1e3, 0), pctOfBusy: pct(incl.get(s.name), busy) })),
  };
}

const fnIs = (name, urlPart) => (f) => f.functionName === name && (urlPart === undefined || f.url.includes(urlPart));
/** Pipeline stages whose inclusive time is reported (a sample counts once per stage). */
export const STAGES = [
  { name: 'Pipeline.ingestItems (split + normalize, until the commit wait)', match: (f) => /^(ingestItems|ingestBody)$/.test(f.functionName) && f.url.includes('/server/pipeline.js') },
  { name: 'connector normalize (greenapi)', match: fnIs('normalizeGreenApi', '/greenapi/') },
  { name: '  createEvent (event build + validate)', match: fnIs('createEvent', '/core/event.js') },
  { name: '    validateEvent (zod data schema)', match: fnIs('validateEvent', '/core/event.js') },
  { name: '    eventId (SHA-256 in JS)', match: fnIs('eventId', '/core/event.js') },
  { name: 'GroupCommitter.drain (commit + publish)', match: fnIs('drain', '/server/pipeline.js') },
  { name: '  SqliteStore.commit (transaction incl. fsync)', match: fnIs('commit', '/store/sqlite.js') },
  { name: '    projections afterInsert (recompute)', match: fnIs('apply', '/projections/') },
  { name: 'SSE stream (follow + write)', match: (f) => f.functionName === 'streamEvents' || (f.functionName === 'follow' && f.url.includes('/server/follow.js')) },
  { name: 'store.queryEvents (incl. prepare)', match: fnIs('queryEvents', '/store/sqlite.js') },
];

export function printSummary(s, out = (l) => log(l)) {
  out(`${s.file}: ${s.seconds} s sampled (${s.startupSeconds} s start-up excluded), busy ${s.busyPct}% of the rest`);
  out('  self time by category (% of busy):');
  for (const c of s.categories.slice(0, 16)) out(`    ${String(c.pctOfBusy ?? '-').padStart(5)}%  ${String(c.ms).padStart(7)} ms  ${c.name}`);
  out('  inclusive time of stages (% of busy):');
  for (const st of s.stages) out(`    ${String(st.pctOfBusy).padStart(5)}%  ${String(st.ms).padStart(7)} ms  ${st.name}`);
  out('  top self-time functions (% of busy):');
  for (const f of s.functions.slice(0, 20)) out(`    ${String(f.pctOfBusy).padStart(5)}%  ${String(f.ms).padStart(7)} ms  ${f.name}`);
}

// ─── profiled runs ───────────────────────────────────────────────────────────────────────────

/**
 * The main thread's profile in `dir` (node names them CPU.<date>.<time>.<pid>.<thread id>.<n>;
 * the main thread is thread 0). The SQLite writer thread's profile, when there is one, is kept
 * beside it as `<name>-writer` by `keep`.
 */
function newestProfile(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  const main = files.filter((f) => f.split('.')[4] === '0');
  return join(dir, (main.length ? main : files).at(-1));
}

/**
 * The SQLite writer thread's profile in `dir`, if any: of the worker threads' profiles (the
 * writer's and the WAL checkpointer's), the largest — the writer runs every commit.
 */
function workerProfile(dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] !== '0')
    .map((f) => ({ f, size: statSync(join(dir, f)).size }))
    .sort((a, b) => b.size - a.size);
  return files.length ? join(dir, files[0].f) : undefined;
}

function keep(file, name) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const dest = join(RESULTS_DIR, `${name}.cpuprofile`);
  copyFileSync(file, dest);
  const writer = workerProfile(dirname(file));
  if (writer) copyFileSync(writer, join(RESULTS_DIR, `${name}-writer.cpuprofile`));
  return dest;
}

/** B1 at 64 connections against a server under --cpu-prof. */
export async function profileB1({ seconds = envInt('BENCH_PROFILE_SECONDS', 15), connections = 64 } = {}) {
  const dir = tempDir('prof');
  try {
    const r = await runOne('switchboard', connections, { duration: seconds, warmup: 2, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
    const file = keep(newestProfile(dir), 'profile-b1');
    return { run: { reqPerSec: round(r.reqPerSec, 0), p99: r.latency.p99, connections, seconds, stored: r.stored }, summary: analyzeProfile(file) };
  } finally {
    removeDir(dir);
  }
}

/** `switchboard replay` of `lines` B2 lines under --cpu-prof. */
export async function profileB2({ lines = envInt('BENCH_PROFILE_LINES', 200_000), chats = envInt('BENCH_CHATS', 10_000) } = {}) {
  const dir = tempDir('prof');
  try {
    const file = join(dir, 'lines.jsonl');
    await writeLines(file, lines, chats);
    const profDir = join(dir, 'prof');
    mkdirSync(profDir);
    const r = await timeReplay(file, join(dir, 'data'), { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] });
    const prof = keep(newestProfile(profDir), 'profile-b2');
    return { run: { lines: r.lines, seconds: round(r.seconds, 1), eventsPerSec: round(r.lines / r.seconds, 0) }, summary: analyzeProfile(prof) };
  } finally {
    removeDir(dir);
  }
}

/** B3-style: `subscribers` SSE streams and `rate` single-message requests/s for `seconds`, under --cpu-prof. */
export async function profileB3({ seconds = 10, subscribers = 100, rate = envInt('BENCH_PROFILE_RATE', 300) } = {}) {
  const dir = tempDir('prof');
  const server = await startSwitchboard({ nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  const subs = fork(join(BENCH_DIR, 'servers', 'sse-subscribers.mjs'), [], { env: { ...process.env, URL: server.url, TOKEN: server.apiToken, SUBSCRIBERS: String(subscribers) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  liveChildren.add(subs);
  const pool = new Pool(server.url, { connections: 32 });
  try {
    await new Promise((r) => subs.on('message', (m) => m.ready && r()));
    const gen = greenApiGenerator();
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${server.ingestToken}` };
    const t0 = Date.now();
    let sent = 0;
    const inflight = [];
    while (Date.now() - t0 < seconds * 1000) {
      const due = Math.floor(((Date.now() - t0) / 1000) * rate);
      while (sent < due) {
        sent++;
        inflight.push(pool.request({ path: server.ingestPath, method: 'POST', headers, body: JSON.stringify(gen.message(`bench-ts:${process.hrtime.bigint()}:w`)) }).then((res) => res.body.dump()).catch(() => undefined));
      }
      await sleep(2);
    }
    await Promise.all(inflight);
    await pool.close();
    subs.kill('SIGKILL');
    await sleep(500);
    await server.stop();
    const file = keep(newestProfile(dir), 'profile-b3');
    return { run: { rate, subscribers, seconds, sent, achievedRate: round(sent / ((Date.now() - t0) / 1000), 0) }, summary: analyzeProfile(file) };
  } finally {
    subs.kill('SIGKILL');
    await server.cleanup();
    removeDir(dir);
  }
}

export async function runProfiles(which = ['b1', 'b2']) {
  const out = { load: { before: loadNow() } };
  if (which.includes('b1')) {
    log('profile: B1 (webhook ingest, 64 connections) under --cpu-prof …');
    out.b1 = await profileB1();
    printSummary(out.b1.summary);
  }
  if (which.includes('b2')) {
    log('profile: B2 (replay) under --cpu-prof …');
    out.b2 = await profileB2();
    printSummary(out.b2.summary);
  }
  if (which.includes('b3')) {
    log('profile: B3 (SSE fan-out) under --cpu-prof …');
    out.b3 = await profileB3();
    printSummary(out.b3.summary);
  }
  out.load.after = loadNow();
  saveResult('profile', out);
  return out;
}

if (isMain(import.meta.url)) {
  const arg = process.argv[2] ?? 'all';
  if (arg.endsWith('.cpuprofile')) printSummary(analyzeProfile(arg));
  else await runProfiles(arg === 'all' ? ['b1', 'b2', 'b3'] : arg.split(','));
}
