/**
 * The container story (issue 18, docs/deploy.md). Base images cannot be pulled on the test
 * machines, so the Dockerfile and compose.yaml are checked for their structure (parsed with
 * `dockerfile-ast` and `yaml`: stages, user, health check, volume, environment), and the image's
 * own start command — its CMD with the environment the image and the compose service give it,
 * the service names resolved to this machine — runs outside a container against the local
 * PostgreSQL and NATS JetStream: it answers both health checks, stores a webhook, publishes it to
 * the stream, and the pg_dump of docs/deploy.md holds it. Without the PostgreSQL URL it stores in
 * SQLite, and the online backup command of docs/deploy.md copies a database that holds it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, assertBuilt, freePort, greenApiMessage } from './helpers/process.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { waitFor } from './helpers/receiver.js';

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');
const dockerfile = DockerfileParser.parse(read('Dockerfile'));
const instructions = dockerfile.getInstructions();
const lastFrom = instructions.map((i) => i.getKeyword()).lastIndexOf('FROM');
const runStage = instructions.slice(lastFrom);
const buildStage = instructions.slice(0, lastFrom);
const of = (stage: readonly Instruction[], keyword: string) => stage.filter((i) => i.getKeyword() === keyword);
const argsOf = (i: Instruction | undefined) => (i?.getArguments() ?? []).map((a) => a.getValue());

/** The run stage's ENV as a record. */
function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of of(runStage, 'ENV')) for (const a of argsOf(i)) if (a.includes('=')) env[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
  return env;
}

/** An exec-form instruction (`CMD ["node", …]`, `HEALTHCHECK … CMD [...]`) as its argument vector. */
function execForm(text: string): string[] {
  const json = text.slice(text.indexOf('['));
  return JSON.parse(json) as string[];
}

interface ComposeService {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parse(read('compose.yaml')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const service = compose.services.switchboard as ComposeService;
const configMount = (service.volumes ?? []).map((v) => v.split(':')).find((p) => p[1] === '/etc/switchboard/switchboard.yaml');

describe('Dockerfile', () => {
  it('has a build stage and a small run stage that copies only what runs from it', () => {
    expect(of(instructions, 'FROM').length).toBe(2);
    expect(argsOf(of(buildStage, 'FROM')[0])).toEqual(['node:20-bookworm-slim', 'AS', 'build']);
    expect(argsOf(of(runStage, 'FROM')[0])).toEqual(['node:20-bookworm-slim']);
    // (the parser gives flags such as --from apart from the arguments)
    const fromBuild = of(runStage, 'COPY').filter((i) => /--from=build\b/.test(i.getTextContent()));
    expect(fromBuild.map((i) => argsOf(i)[0])).toEqual(['/app/package.json', '/app/node_modules', '/app/dist', '/app/migrations']);
    expect(of(buildStage, 'RUN').map((i) => i.getTextContent()).join('\n')).toMatch(/npm ci[\s\S]*npm prune --omit=dev/);
    // Every file the build copies exists, and the context leaves out local data and dependencies.
    for (const i of [...of(buildStage, 'COPY'), ...of(runStage, 'COPY')]) {
      const a = argsOf(i).filter((x) => !x.startsWith('--'));
      for (const src of a.slice(0, -1)) if (!src.startsWith('/app/')) expect(existsSync(join(REPO_ROOT, src)), src).toBe(true);
    }
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', 'data', '*.db']));
  });

  it('runs as the unprivileged node user, with a health check on /healthz, the data on a volume and the serve command', () => {
    expect(argsOf(of(runStage, 'USER').at(-1))).toEqual(['node']);
    expect(of(runStage, 'RUN').map((i) => i.getTextContent()).join('\n')).toMatch(/chown node:node \/data && chmod 0700 \/data/);
    expect(argsOf(of(runStage, 'VOLUME')[0])).toEqual(['["/data"]']);
    expect(argsOf(of(runStage, 'EXPOSE')[0])).toEqual(['8080']);
    expect(imageEnv()).toEqual({ NODE_ENV: 'production', SWITCHBOARD_DATA: '/data', SWITCHBOARD_PORT: '8080' });
    const health = of(runStage, 'HEALTHCHECK')[0]?.getTextContent() ?? '';
    expect(health).toMatch(/--interval=10s/);
    expect(execForm(health.slice(health.indexOf('CMD'))).join(' ')).toContain('/healthz');
    expect(execForm(of(runStage, 'CMD')[0]?.getTextContent() ?? '')).toEqual(['node', 'dist/cli/main.js', 'serve', '--config', '/etc/switchboard/switchboard.yaml']);
  });
});

describe('compose.yaml', () => {
  it('starts Switchboard after a healthy PostgreSQL and NATS JetStream, with its data, the database and NATS on named volumes', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['nats', 'postgres', 'switchboard']);
    expect(service.build).toBe('.');
    expect(service.volumes).toContain('switchboard-data:/data');
    expect(configMount?.[0]).toBe('./deploy/compose.switchboard.yaml');
    expect(service.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, nats: { condition: 'service_healthy' } });
    expect(service.healthcheck?.test.join(' ')).toContain('/readyz');
    expect(service.environment?.NATS_URL).toBe('nats://nats:4222');
    // The store: the postgres service's database, as its user, with the password from .env.
    const pgUrl = service.environment?.SWITCHBOARD_POSTGRES_URL ?? '';
    expect(pgUrl).toMatch(/^postgres:\/\/switchboard:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/switchboard$/);
    const postgres = compose.services.postgres as ComposeService & { image?: string };
    expect(postgres.image).toMatch(/^postgres:/);
    expect(postgres.environment).toMatchObject({ POSTGRES_USER: 'switchboard', POSTGRES_DB: 'switchboard', POSTGRES_PASSWORD: expect.stringMatching(/^\$\{POSTGRES_PASSWORD:\?.+\}$/) as unknown });
    expect(postgres.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(postgres.healthcheck?.test).toEqual(expect.arrayContaining(['pg_isready']));
    const nats = compose.services.nats as ComposeService;
    expect(nats.command).toEqual(expect.arrayContaining(['-js', '-sd', '/data']));
    expect(nats.volumes).toContain('nats-data:/data');
    expect(nats.healthcheck?.test.join(' ')).toContain('/healthz');
    expect(Object.keys(compose.volumes).sort()).toEqual(['nats-data', 'postgres-data', 'switchboard-data']);
  });

  it('gives every variable the mounted config needs without a default, and refuses to start without the secrets', () => {
    const config = read(configMount?.[0] ?? '');
    const needed = [...config.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1] as string);
    expect(needed.length).toBeGreaterThan(3);
    for (const name of needed) expect(Object.keys(service.environment ?? {}), name).toContain(name);
    for (const secret of ['SWITCHBOARD_API_TOKEN', 'WA_INGEST_TOKEN']) expect(service.environment?.[secret]).toMatch(new RegExp(`^\\$\\{${secret}:\\?.+\\}$`));
  });
});

/**
 * Removes the streams these tests make (`SBCONTAINER…`): each server publishes to a stream of its
 * own with the compose config's subjects, and a stream left behind would refuse the next one's.
 */
async function dropContainerStreams(): Promise<void> {
  const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const info of jsm.streams.list()) if (info.config.name.startsWith('SBCONTAINER')) names.push(info.config.name);
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

describe("the image's start command, outside a container", () => {
  const dirs: string[] = [];
  const databases: TestDatabase[] = [];
  const children: ChildProcess[] = [];
  beforeEach(dropContainerStreams);
  afterAll(async () => {
    // A test that failed midway left its server running: it would keep publishing.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    for (const db of databases) await db.drop();
    await dropContainerStreams();
  });

  /**
   * Runs the image's CMD with the image's ENV and the compose service's environment: required
   * secrets given, service names resolved to this machine, the PostgreSQL URL given by `postgres`
   * (absent: the variable left out, so the store is SQLite in the data folder).
   */
  async function startImage(postgres: string | undefined): Promise<{ base: string; data: string; env: NodeJS.ProcessEnv; composeEnv: Record<string, string>; output: () => string; stop: () => Promise<number | null> }> {
    const data = mkdtempSync(join(tmpdir(), 'sb-container-'));
    dirs.push(data);
    const port = await freePort();
    const composeEnv = Object.fromEntries(
      Object.entries(service.environment ?? {})
        .filter(([k]) => k !== 'SWITCHBOARD_POSTGRES_URL' || postgres !== undefined)
        .map(([k, v]) => [k, k === 'SWITCHBOARD_POSTGRES_URL' ? (postgres as string) : v.startsWith('${') ? `${k.toLowerCase()}-0123456789` : v.replace('nats://nats:', 'nats://127.0.0.1:')]),
    );
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...imageEnv(), ...composeEnv, SWITCHBOARD_DATA: data, SWITCHBOARD_PORT: String(port), NATS_STREAM: `SBCONTAINER${Date.now().toString(36).toUpperCase()}` };
    const [command, ...args] = execForm(of(runStage, 'CMD')[0]?.getTextContent() ?? '').map((a) => (a === '/etc/switchboard/switchboard.yaml' ? join(REPO_ROOT, configMount?.[0] ?? '') : a));
    expect(command).toBe('node');
    const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proc);
    let output = '';
    proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        try {
          return (await fetch(`${base}/readyz`)).ok;
        } catch {
          return false;
        }
      },
      20_000,
      () => output,
    );
    return {
      base,
      data,
      env,
      composeEnv,
      output: () => output,
      stop: async () => {
        proc.kill('SIGTERM');
        return new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
      },
    };
  }

  it('serves with the compose environment against the local PostgreSQL and NATS: health checks pass, a webhook is stored and published, the documented pg_dump holds it', async () => {
    assertBuilt();
    const db = await createTestDatabase();
    databases.push(db);
    const image = await startImage(db.url);
    expect(image.output()).toMatch(/store +postgres postgres:\/\//);
    const { env, base } = image;

    // The image's and the compose file's health checks, run as they are written.
    const health = of(runStage, 'HEALTHCHECK')[0]?.getTextContent() ?? '';
    const [, ...imageCheck] = execForm(health.slice(health.indexOf('CMD')));
    expect(spawnSync(process.execPath, imageCheck, { env }).status).toBe(0);
    const [, , ...composeCheck] = (service.healthcheck?.test ?? []).map((a) => a.replace('127.0.0.1:8080', `127.0.0.1:${env.SWITCHBOARD_PORT ?? ''}`));
    expect(spawnSync(process.execPath, composeCheck, { env }).status).toBe(0);

    const res = await fetch(`${base}/ingest/wa`, { method: 'POST', headers: { authorization: `Bearer ${image.composeEnv.WA_INGEST_TOKEN ?? ''}`, 'content-type': 'application/json' }, body: JSON.stringify(greenApiMessage('CONTAINER-1', 1)) });
    expect(res.status).toBe(200);
    const stored = (await (await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${image.composeEnv.SWITCHBOARD_API_TOKEN ?? ''}` } })).json()) as { events: { id: string; type: string }[] };
    expect(stored.events.map((e) => e.type)).toEqual(['message.created']);

    const stream = env.NATS_STREAM ?? '';
    const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    try {
      const jsm = await jetstreamManager(nc);
      try {
        await waitFor(async () => (await jsm.streams.info(stream).catch(() => undefined))?.state.messages === 1, 10_000, image.output);
        const msg = await jsm.streams.getMessage(stream, { seq: 1 });
        expect(msg?.subject).toBe('switchboard.greenapi.message.created');
      } finally {
        // Another stream with the same subjects would refuse the next run's.
        await jsm.streams.delete(stream).catch(() => undefined);
      }
    } finally {
      await nc.close();
    }

    // The PostgreSQL backup of docs/deploy.md (pg_dump in the postgres service), run here against this database.
    const line = read('docs/deploy.md').split('\n').find((l) => l.startsWith('docker compose exec -T postgres pg_dump'));
    // `pg_dump -U <user> [flags] <database> > <file>`: the flags as written, the user and database this test's.
    const flags = /pg_dump -U \S+ (.*) \S+ > .+$/.exec(line ?? '')?.[1]?.split(' ');
    expect(flags).toBeDefined();
    const u = new URL(db.url);
    const dump = spawnSync('pg_dump', ['-h', u.hostname, '-p', u.port, '-U', u.username, ...(flags ?? []), u.pathname.slice(1)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(dump.status, dump.stderr).toBe(0);
    expect(dump.stdout).toContain(stored.events[0]?.id ?? '?');

    expect(await image.stop(), image.output()).toBe(0);
  });

  it('without SWITCHBOARD_POSTGRES_URL stores in SQLite in the data folder, and the documented online backup copies it', async () => {
    assertBuilt();
    const image = await startImage(undefined);
    expect(image.output()).toMatch(/store +sqlite /);
    const res = await fetch(`${image.base}/ingest/wa`, { method: 'POST', headers: { authorization: `Bearer ${image.composeEnv.WA_INGEST_TOKEN ?? ''}`, 'content-type': 'application/json' }, body: JSON.stringify(greenApiMessage('CONTAINER-2', 2)) });
    expect(res.status).toBe(200);
    // The backup command of docs/deploy.md, with the data folder here.
    const line = read('docs/deploy.md').split('\n').find((l) => l.startsWith('docker compose exec switchboard node -e'));
    const script = /node -e "(.*)"$/.exec(line ?? '')?.[1]?.replaceAll('/data/', `${image.data}/`);
    expect(script).toBeDefined();
    const backup = spawnSync(process.execPath, ['-e', script ?? ''], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(backup.stdout.trim(), backup.stderr).toBe('done');
    const copy = new Database(join(image.data, 'backup.db'), { readonly: true });
    try {
      const rows = copy.prepare<[], { type: string }>('SELECT type FROM events').all();
      expect(rows.map((r) => r.type)).toEqual(['message.created']);
    } finally {
      copy.close();
    }
    expect(await image.stop(), image.output()).toBe(0);
  });
});
