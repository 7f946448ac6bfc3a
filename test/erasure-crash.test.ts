/**
 * Issue 17: an erasure SIGKILLed part-way resumes to its end. `switchboard replay` fills a data
 * folder (SQLite, or its PostgreSQL database in the suite's second pass) with 6,000 messages, a
 * third of them from one number; `switchboard erase --phone` is killed once it has removed some
 * of them; the record then says it is still running, and `switchboard erase --resume` finishes
 * it: no table holds the number, every other message is there, and the record's counts add up
 * over both runs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, closeHttp, freePort, greenApiMessage, killAllChildren, makeTempDir, releaseDataStores, removeTempDirs, runCli, sleep, startServer, useDataStore, type CliProcess } from './helpers/process.js';
import { dumpTables } from './helpers/tables.js';

const LINES = 6_000;
const PERSON = '79161234567';

/** The erasures' status and removed events, read beside the erasing process. */
async function progress(store: { sqlite?: string; postgres?: string }): Promise<{ status: string; events: number }[]> {
  if (store.sqlite !== undefined) {
    const db = new Database(store.sqlite, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 1000');
      return db
        .prepare<[], { status: string; counts: string }>('SELECT status, counts FROM erasures')
        .all()
        .map((r) => ({ status: r.status, events: (JSON.parse(r.counts) as { events: number }).events }));
    } catch {
      return []; // not migrated yet
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: store.postgres });
  await client.connect();
  try {
    return (await client.query<{ status: string; counts: string }>('SELECT status, counts FROM erasures')).rows.map((r) => ({ status: r.status, events: (JSON.parse(r.counts) as { events: number }).events }));
  } catch {
    return [];
  } finally {
    await client.end();
  }
}

describe('switchboard erase killed part-way', () => {
  let dir = '';
  let file = '';
  beforeAll(() => {
    assertBuilt();
    dir = join(makeTempDir('switchboard-erase-crash-'), 'data');
    file = join(dir, '..', 'messages.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < LINES; i++) {
      const m = greenApiMessage(`E-${i}`, i) as { senderData: { chatId: string; sender: string } };
      if (i % 3 === 0) m.senderData = { ...m.senderData, chatId: `${PERSON}@c.us`, sender: `${PERSON}@c.us` };
      lines.push(JSON.stringify(m));
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
  });
  afterAll(async () => {
    await killAllChildren();
    await closeHttp();
    await releaseDataStores();
    removeTempDirs();
  });

  it('resumes after a SIGKILL and removes every event of the number, and only those', async () => {
    const postgres = await useDataStore(dir);
    const store = postgres === undefined ? { sqlite: join(dir, 'switchboard.db') } : { postgres };
    const replay = runCli(['replay', file, '--connector', 'greenapi', '--data', dir, '--no-progress']);
    expect(await replay.exited, replay.stderr).toEqual({ code: 0, signal: null });

    /** SIGKILLs `child` once the erasure has removed more than `than` events; answers the count then. */
    const killAfter = async (child: CliProcess, than: number): Promise<number> => {
      for (;;) {
        if (!child.running) throw new Error(`erase ended before it was killed:\n${child.stdout}\n${child.stderr}`);
        if ((await progress(store)).some((e) => e.events > than)) break;
        await sleep(5);
      }
      expect((await child.kill('SIGKILL')).signal).toBe('SIGKILL');
      const p = await progress(store);
      expect(p).toHaveLength(1);
      expect(p[0]?.status).toBe('running');
      return p[0]?.events ?? 0;
    };
    const first = await killAfter(runCli(['erase', '--phone', PERSON, '--by', 'test: ticket 7', '--chunk', '20', '--data', dir]), 0);
    expect(first).toBeLessThan(LINES / 3);
    const second = await killAfter(runCli(['erase', '--resume', '--chunk', '20', '--data', dir]), first);
    expect(second).toBeLessThan(LINES / 3);

    // The server finishes it at its start.
    const server = await startServer(dir, await freePort());
    for (let i = 0; i < 600 && (await progress(store))[0]?.status !== 'done'; i++) await sleep(50);
    expect((await server.child.kill('SIGTERM')).code).toBe(0);
    expect(server.child.stderr).toMatch(/erasure \S+ was interrupted: resuming it/);
    expect(await progress(store)).toEqual([{ status: 'done', events: LINES / 3 }]);

    // Run again with nothing left to finish: says so by printing no erasure.
    const resume = runCli(['erase', '--resume', '--data', dir]);
    expect(await resume.exited, resume.stderr).toEqual({ code: 0, signal: null });
    expect(resume.stdout).not.toMatch(/^erasure /m);
    expect(resume.stdout).toMatch(/NATS stream/);

    const dump = await dumpTables(store);
    expect(dump.filter((l) => l.includes(PERSON.slice(1)))).toEqual([]);
    const events = dump.filter((l) => l.startsWith('events:'));
    expect(events).toHaveLength(LINES - LINES / 3);
    // The rows' bodies are JSON inside the dump's JSON: their quotes are escaped.
    const kept = new Set(events.map((l) => /\\"idMessage\\":\\"(E-\d+)\\"/.exec(l)?.[1]));
    for (let i = 0; i < LINES; i++) expect(kept.has(`E-${i}`), `E-${i}`).toBe(i % 3 !== 0);
  }, 120_000);
});
