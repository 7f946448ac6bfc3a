/**
 * Defect 5, as a fault test: the real CLI server keeps its data on a 2 MiB tmpfs that this test
 * fills up. While the disk is full, ingest answers `503` + `Retry-After` (`SB_ERR_STORE_FULL`,
 * never `500`), `/readyz` answers `503`, `switchboard_store_errors_total{kind="full"}` counts the
 * failures and the log has one error line for them (not one per request). After space is freed,
 * `/readyz` is ready again, ingest works, and nothing acknowledged is lost.
 *
 * Needs `mount -t tmpfs` (root, as on CI); where mounting is not permitted the test is skipped
 * and says why.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, closeHttp, fetchAllEvents, freePort, greenApiMessage, http, killAllChildren, makeTempDir, readApiToken, removeTempDirs, sleep, startServer, type Server } from './helpers/process.js';

let mountPoint = '';
let mounted = false;
let mountProblem = '';

function tryMount(dir: string): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    mountProblem = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
  }
}

/** Writes zeros into `file` until the file system is full; returns the bytes written. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // The last partial chunk: fill to the very last byte.
  const small = openSync(file, 'a');
  try {
    for (;;) written += writeSync(small, Buffer.alloc(512));
  } catch {
    // full
  } finally {
    closeSync(small);
  }
  return written;
}

describe('disk full', () => {
  let server: Server;
  let token = '';
  let dataDir = '';

  beforeAll(() => {
    assertBuilt();
    mountPoint = makeTempDir('switchboard-diskfull-');
    tryMount(mountPoint);
  });
  afterAll(async () => {
    await killAllChildren();
    await closeHttp();
    if (mounted) execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
    removeTempDirs();
  });

  it('answers 503 + Retry-After and not ready while full, counts and logs it once, and recovers when space is freed', async (ctx) => {
    if (!mounted) {
      console.warn(`disk-full test skipped: cannot mount a tmpfs (${mountProblem}); run as root to include it`);
      ctx.skip();
    }
    dataDir = join(mountPoint, 'data');
    mkdirSync(dataDir);
    server = await startServer(dataDir, await freePort());
    token = readApiToken(dataDir);
    const acked = new Set<string>();
    let n = 0;
    const ingest = async () => {
      const id = `FULL-${++n}`;
      const a = await http('POST', `${server.url}/ingest/greenapi`, { token, body: JSON.stringify(greenApiMessage(id, n)) });
      if (a.status === 200) acked.add(id);
      return a;
    };
    for (let i = 0; i < 5; i++) expect((await ingest()).status).toBe(200);
    expect((await http('GET', `${server.url}/readyz`)).status).toBe(200);

    const filler = join(mountPoint, 'filler');
    fillDisk(filler);
    // The WAL may still hold room for a few commits (pages of a checkpointed WAL are reused, and
    // how many are free depends on when the checkpointer ran): those are stored and answered 200.
    // Once a commit needs a new page, every request is refused.
    let first = await ingest();
    for (let i = 0; i < 200 && first.status === 200; i++) first = await ingest();
    const failures = [first];
    for (let i = 0; i < 7; i++) failures.push(await ingest());
    for (const a of failures) {
      expect(a.status, a.text).toBe(503);
      expect(a.json).toMatchObject({ error: { code: 'SB_ERR_STORE_FULL' } });
    }
    // undici's answer above drops headers: ask once more for Retry-After.
    const res = await fetch(`${server.url}/ingest/greenapi`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(greenApiMessage('FULL-X', 999)) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);

    const ready = await http('GET', `${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'not-ready', store: false });
    const metrics = (await http('GET', `${server.url}/metrics`)).text;
    const full = Number(/^switchboard_store_errors_total\{kind="full"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    expect(full).toBeGreaterThanOrEqual(9);
    // One error line for the failures so far (rate-limited), naming the condition.
    const errorLines = server.child.stderr.split('\n').filter((l) => l.includes('"level":50') && l.includes('store'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/full/);

    rmSync(filler);
    let readyAgain = false;
    for (let i = 0; i < 30 && !readyAgain; i++) {
      readyAgain = (await http('GET', `${server.url}/readyz`)).status === 200;
      if (!readyAgain) await sleep(200);
    }
    expect(readyAgain, '/readyz did not become ready after space was freed').toBe(true);
    for (let i = 0; i < 5; i++) expect((await ingest()).status).toBe(200);
    const ids = (await fetchAllEvents(server.url, token)).map((e) => String(e.data.messageId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of acked) expect(ids).toContain(id);
    expect(ids).not.toContain('FULL-X');
  });
});
