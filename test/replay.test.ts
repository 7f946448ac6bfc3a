/**
 * `switchboard replay FILE --connector greenapi --data DIR` end to end, on a 100,000-line
 * JSON-lines file with known duplicates, malformed lines, invalid payloads and blank lines.
 */
import { closeSync, existsSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  closeHttp,
  fetchAllEvents,
  freePort,
  getJson,
  greenApiMessage,
  killAllChildren,
  makeTempDir,
  readApiToken,
  releaseDataStores,
  removeTempDirs,
  runCli,
  startServer,
  type CliProcess,
  useDataStore,
} from './helpers/process.js';
import { TEST_STORE } from './helpers/postgres.js';

/** 100,000 lines on SQLite; on PostgreSQL (the suite's second pass), where a replay commits ~10× slower here, 20,000. */
const TOTAL_LINES = TEST_STORE === 'postgres' ? 20_000 : 100_000;
const DUPLICATES = 500;
const MALFORMED = 7;
const INVALID = 3;
const BLANK = 20;
const UNIQUE = TOTAL_LINES - DUPLICATES - MALFORMED - INVALID - BLANK;

interface Fixture {
  readonly lines: string[];
  readonly malformed: string[];
  readonly invalid: string[];
}

/**
 * Builds the file's lines: UNIQUE distinct messages, with the special lines spread through it.
 * Half of the duplicates repeat the line just before (same commit batch), half a line far back
 * (an earlier batch).
 */
function buildFixture(): Fixture {
  const lines: string[] = [];
  const malformed = [
    '{"typeWebhook":"incomingMessageReceived","idMessage":"BROKEN-1"',
    '{not json}',
    '[1, 2,',
    '{"typeWebhook": incomingMessageReceived}',
    'undefined',
    '{"a":1}}',
    "{'single':'quotes'}",
  ];
  const invalid = [
    JSON.stringify({ instanceData: { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' }, timestamp: 1_700_000_000, idMessage: 'NO-TYPE-1' }),
    JSON.stringify({ idMessage: 'NO-TYPE-2', messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: 'x' } } }),
    JSON.stringify({ hello: 'world' }),
  ];
  expect(malformed).toHaveLength(MALFORMED);
  expect(invalid).toHaveLength(INVALID);

  // Positions (in the final file) of the special lines, chosen deterministically and spread out.
  const special = new Map<number, 'dup-near' | 'dup-far' | 'malformed' | 'invalid' | 'blank'>();
  const place = (kind: 'dup-near' | 'dup-far' | 'malformed' | 'invalid' | 'blank', count: number, seed: number) => {
    let placed = 0;
    for (let k = 0; placed < count; k++) {
      const pos = 1000 + ((seed + k * 7919) % (TOTAL_LINES - 1000));
      if (!special.has(pos)) {
        special.set(pos, kind);
        placed++;
      }
    }
  };
  place('dup-near', DUPLICATES / 2, 11);
  place('dup-far', DUPLICATES / 2, 5003);
  place('malformed', MALFORMED, 33_331);
  place('invalid', INVALID, 66_661);
  place('blank', BLANK, 77_773);

  let m = 0;
  let malformedAt = 0;
  let invalidAt = 0;
  let blankAt = 0;
  const uniqueLines: string[] = [];
  for (let pos = 0; pos < TOTAL_LINES; pos++) {
    const kind = special.get(pos);
    if (kind === undefined) {
      const line = JSON.stringify(greenApiMessage(`R-${m}`, m));
      m++;
      uniqueLines.push(line);
      lines.push(line);
    } else if (kind === 'dup-near') {
      lines.push(uniqueLines[uniqueLines.length - 1] as string);
    } else if (kind === 'dup-far') {
      lines.push(uniqueLines[(pos * 31) % 900] as string);
    } else if (kind === 'malformed') {
      lines.push(malformed[malformedAt++] as string);
    } else if (kind === 'invalid') {
      lines.push(invalid[invalidAt++] as string);
    } else {
      lines.push(blankAt++ % 2 === 0 ? '' : '   \t ');
    }
  }
  expect(lines).toHaveLength(TOTAL_LINES);
  expect(m).toBe(UNIQUE);
  return { lines, malformed, invalid };
}

interface QuarantineItem {
  id: string;
  connectorId: string;
  code: string;
  reason: string;
  raw: string;
}

async function runReplay(file: string, dataDir: string): Promise<CliProcess> {
  const child = runCli(['replay', file, '--connector', 'greenapi', '--data', dataDir]);
  const exit = await child.exited;
  if (exit.code !== 0) throw new Error(`replay exited with ${JSON.stringify(exit)}\nstdout:\n${child.stdout}\nstderr:\n${child.stderr}`);
  return child;
}

const SUMMARY = /^replayed (\d+) lines of .+ into greenapi: (\d+) accepted, (\d+) duplicate, (\d+) quarantined in [\d.]+ s \(\d+ lines\/s\)$/m;

function summaryOf(stdout: string): { lines: number; accepted: number; duplicates: number; quarantined: number } {
  const m = SUMMARY.exec(stdout);
  if (!m) throw new Error(`no summary line in the replay output:\n${stdout}`);
  return { lines: Number(m[1]), accepted: Number(m[2]), duplicates: Number(m[3]), quarantined: Number(m[4]) };
}

describe(`switchboard replay (${TOTAL_LINES.toLocaleString('en')} lines, ${TEST_STORE})`, () => {
  let work = '';
  let dataDir = '';
  let file = '';
  let fixture: Fixture;

  beforeAll(() => {
    assertBuilt();
    work = makeTempDir('switchboard-replay-');
    dataDir = join(work, 'data');
    file = join(work, 'greenapi.jsonl');
    fixture = buildFixture();
    writeFileSync(file, `${fixture.lines.join('\n')}\n`);
  });

  afterAll(async () => {
    await killAllChildren();
    await closeHttp();
    await releaseDataStores();
    removeTempDirs();
  });

  it(
    'counts accepted, duplicate and quarantined lines exactly; the server then serves them; a second replay is all duplicates',
    async () => {
      const timings: Record<string, number> = {};
      let t = Date.now();

      // ── first replay ──────────────────────────────────────────────────────────────────────
      await useDataStore(dataDir); // under SWITCHBOARD_TEST_STORE=postgres: the folder's database
      const first = await runReplay(file, dataDir);
      timings.firstReplay = (Date.now() - t) / 1000;
      const s1 = summaryOf(first.stdout);
      expect(s1).toEqual({ lines: TOTAL_LINES, accepted: UNIQUE, duplicates: DUPLICATES, quarantined: MALFORMED + INVALID });
      expect(first.stdout).toContain('quarantined payloads are listed by GET /v1/quarantine');
      // stderr is not a TTY: the progress bar prints whole lines now and then, at least the last.
      expect(first.stderr).toMatch(/replay \|.*\| \d+% \| \d+ lines \|/);
      expect(first.stderr).toContain(`| 100% | ${TOTAL_LINES} lines | ${UNIQUE} accepted, ${DUPLICATES} duplicate, ${MALFORMED + INVALID} quarantined`);

      // ── the server on the same data folder ───────────────────────────────────────────────
      t = Date.now();
      const port = await freePort();
      const server = await startServer(dataDir, port);
      const token = readApiToken(dataDir);

      const q = (await getJson(`${server.url}/v1/quarantine?limit=1000`, token)) as { items: QuarantineItem[]; next: string | null };
      expect(q.next).toBeNull();
      expect(q.items).toHaveLength(MALFORMED + INVALID);
      for (const item of q.items) {
        expect(item.connectorId).toBe('greenapi');
        expect(item.reason.length).toBeGreaterThan(0);
      }
      const bad = q.items.filter((i) => i.code === 'SB_ERR_INGEST_MALFORMED');
      expect(bad.map((i) => i.raw).sort()).toEqual([...fixture.malformed].sort());
      for (const item of bad) expect(item.reason).toMatch(/^line \d+: malformed JSON: /);
      // The line number in the reason points at the line as it is in the file.
      for (const item of bad) {
        const lineNo = Number(/^line (\d+)/.exec(item.reason)?.[1]);
        expect(fixture.lines[lineNo - 1]).toBe(item.raw);
      }
      const invalid = q.items.filter((i) => i.code !== 'SB_ERR_INGEST_MALFORMED');
      expect(invalid.map((i) => i.raw).sort()).toEqual([...fixture.invalid].sort());
      for (const item of invalid) {
        expect(item.code).toBe('SB_ERR_INGEST_INVALID_PAYLOAD');
        expect(item.reason).toMatch(/typeWebhook/);
      }

      const events = await fetchAllEvents(server.url, token);
      expect(events).toHaveLength(s1.accepted);
      const messageIds = new Set(events.map((e) => String(e.data.messageId)));
      expect(messageIds.size).toBe(UNIQUE);
      let previous = 0n;
      for (const e of events) {
        const seq = BigInt(e.sequence);
        if (!(seq > previous)) throw new Error(`sequence ${e.sequence} after ${previous}`);
        previous = seq;
      }
      const exit = await server.child.kill('SIGTERM');
      expect(exit.code).toBe(0);
      timings.serverChecks = (Date.now() - t) / 1000;

      // ── second replay: everything already stored ─────────────────────────────────────────
      t = Date.now();
      const second = await runReplay(file, dataDir);
      timings.secondReplay = (Date.now() - t) / 1000;
      const s2 = summaryOf(second.stdout);
      expect(s2).toEqual({ lines: TOTAL_LINES, accepted: 0, duplicates: s1.accepted + s1.duplicates, quarantined: MALFORMED + INVALID });

      console.log(`replay test: ${JSON.stringify({ first: s1, second: s2, timings })}`);
    },
    180_000,
  );
});

describe('switchboard replay --connector with an unknown id', () => {
  let work = '';
  beforeAll(() => {
    assertBuilt();
    work = makeTempDir('switchboard-replay-unknown-');
  });
  afterAll(async () => {
    await killAllChildren();
    removeTempDirs();
  });

  it('names the unknown connector and the known ones before looking at the file, even a missing one', async () => {
    const dataDir = join(work, 'data-missing');
    const child = runCli(['replay', join(work, 'no-such-file.jsonl'), '--connector', 'nosuch', '--data', dataDir]);
    const exit = await child.exited;
    expect(exit.code).toBe(1);
    expect(child.stderr).toMatch(/unknown connector "nosuch"/);
    expect(child.stderr).toMatch(/known: greenapi, widget, threads, connect1c/);
    expect(child.stderr).not.toContain('cannot read');
    expect(existsSync(join(dataDir, 'switchboard.db'))).toBe(false);
  });

  it('answers at once for a huge file, naming the connectors of the config', async () => {
    const huge = join(work, 'huge.jsonl');
    const fd = openSync(huge, 'w');
    ftruncateSync(fd, 2 * 1024 ** 3); // 2 GiB, sparse: no line end anywhere
    closeSync(fd);
    const config = join(work, 'sb.yaml');
    writeFileSync(config, 'connectors:\n  - { id: wa-main, platform: greenapi }\n  - { id: web, platform: widget }\n');
    const dataDir = join(work, 'data-huge');
    const started = Date.now();
    const child = runCli(['replay', huge, '--connector', 'wa-mian', '--config', config, '--data', dataDir, '--no-progress']);
    const exit = await child.exited;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(exit.code).toBe(1);
    expect(child.stderr).toMatch(/unknown connector "wa-mian"/);
    expect(child.stderr).toMatch(/known: wa-main, web/);
    expect(existsSync(join(dataDir, 'switchboard.db'))).toBe(false);
  }, 60_000);
});
