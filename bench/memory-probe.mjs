/**
 * Where the server's peak RSS lives: B1's load (GREEN-API payloads, 64 connections) against a
 * fresh server while /proc/PID/smaps is read every 250 ms; at the highest RSS seen, the resident
 * memory by kind of mapping (V8 heap pages, the node binary, malloc arenas, thread stacks, …).
 * An experiment's tool, not part of `npm run bench`.
 *
 *   node bench/memory-probe.mjs     # BENCH_DURATION=10 BENCH_CONNECTIONS=64 BENCH_NODE_ARGS=…
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { envInt, greenApiGenerator, startSwitchboard } from './lib.mjs';

function smaps(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const kinds = new Map();
  let name = '';
  let size = 0;
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      name = head[1] ?? '';
      const [a, b] = line.split(' ')[0].split('-').map((x) => parseInt(x, 16));
      size = b - a;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const kb = Number(rss[1]);
    if (kb === 0) continue;
    const kind = name.includes('/node') ? 'node binary' : name.endsWith('.node') ? 'native addons' : name.startsWith('/') ? 'other files' : name === '[heap]' ? 'brk heap (malloc main arena)' : name.startsWith('[stack') ? 'stacks' : name ? name : size === 64 * 1024 * 1024 || size > 32 * 1024 * 1024 ? 'anon ≥ 32 MiB (malloc arenas, V8 reservations)' : size >= 256 * 1024 ? 'anon 256 KiB–32 MiB (V8 heap pages, arenas)' : 'anon < 256 KiB';
    kinds.set(kind, (kinds.get(kind) ?? 0) + kb);
  }
  return kinds;
}

const connections = envInt('BENCH_CONNECTIONS', 64);
const duration = envInt('BENCH_DURATION', 10);
const server = await startSwitchboard();
// With BENCH_NODE_ARGS=--trace-gc: the largest heap each isolate committed, from V8's GC lines
// ("[pid:isolate] … Scavenge 45.2 (60.1) -> 30.1 (62.3) MB").
const committed = new Map();
const kinds = new Map();
server.child.stdout.on('data', (d) => {
  for (const m of String(d).matchAll(/\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (\S+)[^\n]*?([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/g)) {
    const iso = m[1];
    committed.set(iso, Math.max(committed.get(iso) ?? 0, Number(m[4]), Number(m[6])));
    const k = `${iso} ${m[2]}`;
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
});
const gen = greenApiGenerator({ chats: 1000 });
let peak = { total: 0, kinds: new Map() };
const timer = setInterval(() => {
  const kinds = smaps(server.pid);
  if (!kinds) return;
  const total = [...kinds.values()].reduce((a, b) => a + b, 0);
  if (total > peak.total) peak = { total, kinds };
}, 250);
const idle = smaps(server.pid);
const r = await autocannon({
  url: server.url,
  connections,
  duration,
  requests: [{ method: 'POST', path: server.ingestPath, headers: { 'content-type': 'application/json', authorization: `Bearer ${server.ingestToken}` }, setupRequest: (req) => ({ ...req, body: JSON.stringify(gen.next()) }) }],
});
clearInterval(timer);
const mib = (kb) => (kb / 1024).toFixed(1).padStart(7);
console.log(`${Math.round(r.requests.average)} req/s at ${connections} connections; RSS idle ${mib([...idle.values()].reduce((a, b) => a + b, 0))} MiB, peak ${mib(peak.total)} MiB`);
for (const [k, v] of [...peak.kinds].sort((a, b) => b[1] - a[1])) console.log(`  ${mib(v)} MiB  ${k}   (idle ${mib(idle.get(k) ?? 0)})`);
for (const [iso, mb] of committed) console.log(`  isolate ${iso}: largest committed heap ${mb} MB; GCs ${[...kinds].filter(([k]) => k.startsWith(iso)).map(([k, n]) => `${k.split(' ')[1]} ×${n}`).join(', ')}`);
await server.cleanup();
