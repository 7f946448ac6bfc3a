/**
 * SIGKILL during `switchboard replay`: the real CLI is killed twice part-way through a JSON-lines
 * file (once early, once later, each time after some commits went through) and then run again to
 * the end on the same data folder. Every payload of the file is then stored exactly once, in one
 * increasing sequence, and the last run's summary accounts for every line: what the killed runs
 * committed comes back as duplicates. The progress is watched through a read-only SQLite
 * connection of this process, beside the replaying one — or, under SWITCHBOARD_TEST_STORE=postgres,
 * through the PostgreSQL store's own reads.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/server/store/postgres/index.js';
import { assertBuilt, greenApiMessage, killAllChildren, makeTempDir, releaseDataStores, removeTempDirs, runCli, sleep, useDataStore } from './helpers/process.js';

const UNIQUE = 6_000;
const REPEATED = 60;
const MALFORMED = ['{"typeWebhook":"incomingMessageReceived"', '{not json}'];

/** What the test reads of the store the replays write. */
interface Reader {
  counts(): Promise<{ events: number; quarantined: number }>;
  /** Every event's sequence and GREEN-API message id, in sequence order. */
  rows(): Promise<{ seq: number; messageId: string }[]>;
  quarantineRaws(): Promise<string[]>;
  /** The projections' state: what is still to catch up, and the conversations with their counts. */
  projected(): Promise<unknown>;
  close(): Promise<void>;
}

/** The SQLite file, read-only, beside the replaying process. */
function sqliteReader(dbFile: string): Reader {
  const read = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 1000');
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    async counts() {
      if (!existsSync(dbFile)) return { events: 0, quarantined: 0 };
      try {
        return read((db) => ({
          events: (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number } | undefined)?.n ?? 0,
          quarantined: (db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number } | undefined)?.n ?? 0,
        }));
      } catch {
        return { events: 0, quarantined: 0 }; // not migrated yet
      }
    },
    async rows() {
      return read((db) => db.prepare("SELECT seq, json_extract(body, '$.data.messageId') AS messageId FROM events ORDER BY seq").all() as { seq: number; messageId: string }[]);
    },
    async quarantineRaws() {
      return read((db) => (db.prepare('SELECT raw FROM quarantine').all() as { raw: string }[]).map((r) => r.raw));
    },
    async projected() {
      return read((d) => ({
        pending: (d.prepare('SELECT count(*) AS n FROM projection_pending').get() as { n: number }).n,
        conversations: d.prepare('SELECT connector_id, conversation_id, body FROM conversations ORDER BY connector_id, conversation_id').all(),
        counts: d.prepare('SELECT * FROM conversation_counts ORDER BY connector_id, conversation_id').all(),
      }));
    },
    async close() {},
  };
}

/** The PostgreSQL database, through the store's own reads. */
function postgresReader(url: string): Reader {
  const store = new PostgresStore({ url, poolSize: 2 });
  const opened = store.open();
  return {
    async counts() {
      await opened;
      const s = (await store.connectorStats()).find((c) => c.connectorId === 'greenapi');
      return { events: s?.events ?? 0, quarantined: s?.quarantined ?? 0 };
    },
    async rows() {
      await opened;
      const out: { seq: number; messageId: string }[] = [];
      for (let after = 0; ; ) {
        const page = await store.queryEvents({ after, limit: 1000 });
        if (page.length === 0) return out;
        for (const e of page) out.push({ seq: e.seq, messageId: String((JSON.parse(e.json) as { data: { messageId: unknown } }).data.messageId) });
        after = (page[page.length - 1] as { seq: number }).seq;
      }
    },
    async quarantineRaws() {
      await opened;
      return (await store.listQuarantine({ limit: 1000 })).map((q) => q.raw);
    },
    async projected() {
      await opened;
      const conversations: unknown[] = [];
      for (let after: string | undefined; ; ) {
        const page = await store.projections.listConversations({ after, limit: 500 });
        conversations.push(...page.rows);
        if (page.next === null) break;
        after = page.next;
      }
      // In the order of their ids: a rebuild inserts the rows again, and the list's order follows insertion.
      const id = (c: unknown) => String((c as { id: string }).id);
      conversations.sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
      return { pending: await store.projections.pendingCount(), conversations };
    },
    async close() {
      await opened.catch(() => undefined);
      await store.close();
    },
  };
}

describe('switchboard replay killed part-way', () => {
  let work = '';
  let dataDir = '';
  let file = '';
  const lines: string[] = [];

  beforeAll(() => {
    assertBuilt();
    work = makeTempDir('switchboard-replay-crash-');
    dataDir = join(work, 'data');
    file = join(work, 'greenapi.jsonl');
    for (let i = 0; i < UNIQUE; i++) {
      lines.push(JSON.stringify(greenApiMessage(`RC-${i}`, i)));
      if (i % (UNIQUE / REPEATED) === 7) lines.push(lines[lines.length - 1] as string); // a duplicate
      if (i === 1234) lines.push(MALFORMED[0] as string);
      if (i === 4_567) lines.push(MALFORMED[1] as string);
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
  });
  let reader: Reader | undefined;
  afterAll(async () => {
    await killAllChildren();
    await reader?.close();
    await releaseDataStores();
    removeTempDirs();
  });

  /** Starts a replay and SIGKILLs it once at least `events` are committed; returns the count then. */
  async function replayKilledAfter(read: Reader, events: number): Promise<number> {
    const child = runCli(['replay', file, '--connector', 'greenapi', '--data', dataDir, '--batch', '500', '--no-progress']);
    for (;;) {
      if (!child.running) throw new Error(`replay ended before ${events} events were committed: ${child.stdout}\n${child.stderr}`);
      if ((await read.counts()).events >= events) break;
      await sleep(5);
    }
    const exit = await child.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    return (await read.counts()).events;
  }

  it(
    'stores every line exactly once after two SIGKILLs and a run to the end',
    async () => {
      const postgresUrl = await useDataStore(dataDir); // under SWITCHBOARD_TEST_STORE=postgres
      const read = postgresUrl === undefined ? sqliteReader(join(dataDir, 'switchboard.db')) : postgresReader(postgresUrl);
      reader = read;
      const first = await replayKilledAfter(read, 1_000);
      const second = await replayKilledAfter(read, first + 2_000);
      expect(second).toBeGreaterThan(first);
      expect(second).toBeLessThan(UNIQUE); // killed part-way, not after the end

      const last = runCli(['replay', file, '--connector', 'greenapi', '--data', dataDir, '--batch', '500', '--no-progress']);
      const exit = await last.exited;
      expect(exit, last.stderr).toEqual({ code: 0, signal: null });
      const m = /^replayed (\d+) lines of .+: (\d+) accepted, (\d+) duplicate, (\d+) quarantined/m.exec(last.stdout);
      expect(m, last.stdout).not.toBeNull();
      const [lineCount, accepted, duplicates, quarantined] = (m as RegExpExecArray).slice(1).map(Number);
      expect(lineCount).toBe(lines.length);
      // What the killed runs committed comes back as duplicates; the rest is accepted now.
      expect(accepted).toBe(UNIQUE - second);
      expect(duplicates).toBe(second + REPEATED);
      expect(quarantined).toBe(MALFORMED.length);

      const rows = await read.rows();
      expect(rows).toHaveLength(UNIQUE);
      const ids = new Set(rows.map((r) => r.messageId));
      expect(ids.size).toBe(UNIQUE);
      expect(Array.from({ length: UNIQUE }, (_, i) => `RC-${i}`).filter((id) => !ids.has(id))).toEqual([]);
      const seqs = rows.map((r) => r.seq);
      expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number))).toBe(true);
      // Each malformed line is kept at least once; a run restarted after a kill quarantines again what it reads again.
      const raws = await read.quarantineRaws();
      for (const bad of MALFORMED) expect(raws).toContain(bad);

      // The projections deferred by the killed runs were caught up by the last one: equal to a rebuild.
      const caughtUp = (await read.projected()) as { pending: number; conversations: unknown[] };
      expect(caughtUp.pending).toBe(0);
      expect(caughtUp.conversations.length).toBeGreaterThan(0);
      const rebuild = runCli(['rebuild', '--data', dataDir]);
      expect(await rebuild.exited, rebuild.stderr).toEqual({ code: 0, signal: null });
      expect(await read.projected()).toEqual(caughtUp);
    },
    120_000,
  );
});
