/**
 * Issue 17, the archive (docs/privacy.md), on both stores: with `retention.archive`, a pass writes
 * the events it removes to one gzip NDJSON file per UTC day of their receipt (folder 0700, files
 * 0600) before they go — exactly those, as the API showed them — and `switchboard replay FILE
 * --archive` stores them again in an empty store: the same events (ids, types, data), their
 * calls and conversations folded again; a second replay finds them all stored already.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, closeHttp, freePort, getJson, killAllChildren, makeTempDir, readApiToken, releaseDataStores, removeTempDirs, runCli, startServer, useDataStore } from './helpers/process.js';
import { TEST_STORE } from './helpers/postgres.js';
import { API_TOKEN, apiHeaders, ingestHeaders, retentionStartPassDone, startTestServer, waCallFrom, waMessageFrom, type TestServer } from './helpers/sb.js';

const DAY = 86_400_000;

type ApiEvent = Record<string, unknown> & { id: string; sequence: string };

describe('the archive', () => {
  const T0 = Date.now();
  let clock = T0;
  let s: TestServer;
  let folder = '';
  beforeAll(async () => {
    assertBuilt();
    folder = join(makeTempDir('sb-archive-'), 'archive');
    s = await startTestServer(
      { retention: { events: '30d', archive: { folder }, interval: '1h', chunk: 2 }, server: { apiToken: API_TOKEN } },
      { now: () => new Date(clock) },
    );
    await retentionStartPassDone(s.url);
  });
  afterAll(async () => {
    await s?.close();
    await killAllChildren();
    await closeHttp();
    await releaseDataStores();
    removeTempDirs();
  });

  it('writes what a pass removes, per day, and replay --archive stores it again in an empty store', async () => {
    const ingest = async (body: unknown) => expect((await fetch(`${s.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(body) })).status).toBe(200);
    const day = (t: number) => new Date(t).toISOString().slice(0, 10);
    const d1 = T0 - 45 * DAY;
    const d2 = T0 - 40 * DAY;
    clock = d1;
    await ingest([waMessageFrom('OLD-1', '79001110001', 'first day'), waCallFrom('OLD-CALL', '79001110001', 'offer'), waCallFrom('OLD-CALL', '79001110001', 'hangUp')]);
    clock = d2;
    await ingest([waMessageFrom('OLD-2', '79001110002', 'second day')]);
    clock = T0 - DAY;
    await ingest([waMessageFrom('NEW-1', '79001110003', 'kept')]);
    const before = (await (await fetch(`${s.url}/v1/events`, { headers: apiHeaders })).json()) as { events: ApiEvent[] };
    const old = before.events.filter((e) => JSON.stringify(e).includes('OLD-'));
    expect(old.length).toBeGreaterThanOrEqual(4);

    const result = await s.sb.applyRetention(new Date(T0));
    expect([result.events, result.archived]).toEqual([old.length, old.length]);

    // One file per day of receipt, this user's only, holding exactly the removed events as the API showed them.
    expect(readdirSync(folder).sort()).toEqual([`events-${day(d1)}.ndjson.gz`, `events-${day(d2)}.ndjson.gz`]);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    const archived: ApiEvent[] = [];
    for (const f of readdirSync(folder).sort()) {
      expect(statSync(join(folder, f)).mode & 0o777).toBe(0o600);
      archived.push(...gunzipSync(readFileSync(join(folder, f))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as ApiEvent));
    }
    expect(archived).toEqual(old);
    const after = (await (await fetch(`${s.url}/v1/events`, { headers: apiHeaders })).json()) as { events: ApiEvent[] };
    expect(after.events.map((e) => e.id)).toEqual(before.events.filter((e) => !old.includes(e)).map((e) => e.id));

    // Into an empty store (SQLite, or a fresh PostgreSQL database in the suite's second pass).
    const dir = join(makeTempDir('sb-archive-restore-'), 'data');
    await useDataStore(dir);
    for (const f of readdirSync(folder).sort()) {
      const replay = runCli(['replay', join(folder, f), '--archive', '--data', dir, '--no-progress']);
      expect(await replay.exited, replay.stderr).toEqual({ code: 0, signal: null });
      expect(replay.stdout).toMatch(/: \d+ accepted, 0 duplicate, 0 not events/);
    }
    const again = runCli(['replay', join(folder, `events-${day(d1)}.ndjson.gz`), '--archive', '--data', dir, '--no-progress']);
    expect(await again.exited).toEqual({ code: 0, signal: null });
    expect(again.stdout).toMatch(/: 0 accepted, \d+ duplicate, 0 not events/);

    const server = await startServer(dir, await freePort());
    const token = readApiToken(dir);
    const restored = (await getJson(`${server.url}/v1/events`, token)) as { events: ApiEvent[] };
    const withoutSequence = (e: ApiEvent) => ({ ...e, sequence: undefined });
    expect(restored.events.map(withoutSequence)).toEqual(old.map(withoutSequence));
    const calls = (await getJson(`${server.url}/v1/calls`, token)) as { calls: { callId: string }[] };
    expect(calls.calls).toHaveLength(1);
    expect((await server.child.kill('SIGTERM')).code).toBe(0);
  });

  it('names the line that is not a Switchboard event, stores the others, and exits 1', async () => {
    const dir = join(makeTempDir('sb-archive-bad-'), 'data');
    await useDataStore(dir);
    const file = join(dir, '..', 'bad.ndjson');
    const good = { specversion: '1.0', id: 'x', source: 'switchboard/greenapi/wa', type: 'nope', subject: 'a/b', time: new Date().toISOString() };
    writeFileSync(file, `{"broken"\n${JSON.stringify({ ...good, source: 'elsewhere' })}\n${JSON.stringify(good)}\n`);
    const replay = runCli(['replay', file, '--archive', '--data', dir, '--no-progress']);
    expect((await replay.exited).code).toBe(1);
    expect(replay.stderr).toMatch(/line 1: malformed JSON/);
    expect(replay.stderr).toMatch(/line 2: not a Switchboard event: source "elsewhere"/);
    expect(replay.stderr).toMatch(/line 3: invalid nope event: unknown type "nope"/);
    expect(replay.stdout).toMatch(/0 accepted, 0 duplicate, 3 not events/);
  });
});

/** moto's S3-compatible server (Python, `pip install 'moto[server]'`), on this machine through pyenv. */
function findMotoServer(): string | undefined {
  for (const p of [process.env.MOTO_SERVER, '/root/.pyenv/shims/moto_server', '/usr/local/bin/moto_server', '/usr/bin/moto_server']) if (p && existsSync(p)) return p;
  return undefined;
}
const MOTO = findMotoServer();
const inCi = process.env.CI === 'true';
if (!MOTO) console.warn('test/archive.test.ts: the S3 archive test is skipped — no moto_server (pip install "moto[server]"). In CI this fails instead.');

// The bucket is the same whatever the store: on SQLite only (the suite's first pass).
describe.skipIf((!MOTO && !inCi) || TEST_STORE === 'postgres')('the archive in an S3-compatible bucket', () => {
  const T0 = Date.now();
  let clock = T0;
  let s: TestServer | undefined;
  let moto: ChildProcess | undefined;
  afterAll(async () => {
    await s?.close();
    moto?.kill('SIGKILL');
  });

  it('stores each chunk of a day as an object before the events go, readable back with replay --archive', async () => {
    if (!MOTO) throw new Error('no moto_server: the S3 archive cannot be tested (pip install "moto[server]")');
    const port = await freePort();
    moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const endpoint = `http://127.0.0.1:${port}`;
    const { S3Client, CreateBucketCommand, ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    for (let i = 0; ; i++) {
      try {
        await s3.send(new CreateBucketCommand({ Bucket: 'sb-archive' }));
        break;
      } catch (err) {
        if (i > 100) throw err; // the server is starting
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    s = await startTestServer(
      { retention: { events: '30d', archive: { s3: { bucket: 'sb-archive', prefix: 'sb/', endpoint, accessKeyId: 'test', secretAccessKey: 'test' } }, interval: '1h', chunk: 2 }, server: { apiToken: API_TOKEN } },
      { now: () => new Date(clock) },
    );
    const server = s;
    await retentionStartPassDone(server.url);
    const ingest = async (body: unknown) => expect((await fetch(`${server.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(body) })).status).toBe(200);
    clock = T0 - 40 * DAY;
    await ingest([waMessageFrom('S3-1', '79001110011', 'old'), waMessageFrom('S3-2', '79001110012', 'old too'), waMessageFrom('S3-3', '79001110013', 'and this')]);
    clock = T0;
    await ingest([waMessageFrom('S3-NEW', '79001110014', 'kept')]);
    const before = ((await (await fetch(`${server.url}/v1/events`, { headers: apiHeaders })).json()) as { events: ApiEvent[] }).events;
    const old = before.filter((e) => !JSON.stringify(e).includes('S3-NEW'));
    expect(old).toHaveLength(3);

    const result = await server.sb.applyRetention(new Date(T0));
    expect([result.events, result.archived]).toEqual([3, 3]);
    const day = new Date(T0 - 40 * DAY).toISOString().slice(0, 10);
    const listed = (await s3.send(new ListObjectsV2Command({ Bucket: 'sb-archive' }))).Contents?.map((o) => o.Key ?? '') ?? [];
    // Two chunks of the pass (2 events per transaction): two objects under the day.
    expect(listed.length).toBe(2);
    for (const key of listed) expect(key).toMatch(new RegExp(`^sb/events-${day}/\\d{16}-\\d{16}\\.ndjson\\.gz$`));
    const archived: ApiEvent[] = [];
    const dir = makeTempDir('sb-archive-s3-');
    for (const key of listed.sort()) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket: 'sb-archive', Key: key }))).Body?.transformToByteArray();
      const file = join(dir, key.replaceAll('/', '_'));
      writeFileSync(file, body ?? new Uint8Array());
      archived.push(...gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as ApiEvent));
      const data = join(dir, 'data');
      await useDataStore(data);
      const replay = runCli(['replay', file, '--archive', '--data', data, '--no-progress']);
      expect(await replay.exited, replay.stderr).toEqual({ code: 0, signal: null });
    }
    expect(archived).toEqual(old);
  });
});
