/**
 * `switchboard config check [--config FILE]` run as the built CLI: a valid config prints the
 * effective configuration (defaults filled in, secrets masked) and exits 0; an invalid one prints
 * every problem and exits 1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { assertBuilt, killAllChildren, makeTempDir, removeTempDirs, runCli, type Exit } from './helpers/process.js';

const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const SECRETS = ['api-secret-TOKEN-111', 'ingest-secret-222', 'poll-secret-333', 'pw-secret-444', 'twin-token-555', 'qs-secret-777', WEBHOOK_SECRET, 'nats-pass-888', 'nats-token-999', 'nats-pass-000', 'threads-secret-aaa'];

async function check(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Exit & { stdout: string; stderr: string }> {
  const child = runCli(['config', 'check', ...args], env);
  const exit = await child.exited;
  return { ...exit, stdout: child.stdout, stderr: child.stderr };
}

describe('switchboard config check', () => {
  let dir: string;
  let valid: string;
  beforeAll(() => {
    assertBuilt();
    dir = makeTempDir('sb-config-check-');
    valid = join(dir, 'valid.yaml');
    writeFileSync(
      valid,
      [
        'server: { apiToken: "${MY_API_TOKEN}" }',
        `store: { sqlite: ${join(dir, 'sb.db')} }`,
        'connectors:',
        '  - { id: wa, platform: greenapi, ingestToken: "ingest-secret-222", polling: { apiUrl: "https://api.green-api.com", idInstance: 1101000001, apiTokenInstance: "poll-secret-333" } }',
        '  - { id: tw, platform: twin, url: "wss://twin.example/ws", auth: { email: "op@example.com", password: "pw-secret-444" } }',
        '  - { id: tw2, platform: twin, auth: { token: "twin-token-555" } }',
        '  - { id: th, platform: threads, ingestToken: "threads-secret-aaa" }',
        'subscriptions:',
        `  - { id: s1, url: "https://hooks.example.com/x?token=qs-secret-777&team=blue", secret: "${WEBHOOK_SECRET}" }`,
        'nats: { url: "nats://natsuser:nats-pass-888@127.0.0.1:4222", token: "nats-token-999", user: natsuser, pass: "nats-pass-000" }',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await killAllChildren();
    removeTempDirs();
  });

  it('prints the effective config with defaults filled in and every secret masked, and exits 0', async () => {
    const r = await check(['--config', valid], { MY_API_TOKEN: 'api-secret-TOKEN-111' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const s of SECRETS) expect(r.stdout, s).not.toContain(s);
    const c = parse(r.stdout) as Record<string, Record<string, unknown> & { [k: string]: unknown }>;
    expect(c.server).toMatchObject({ port: 8080, host: '127.0.0.1', apiToken: '********', bodyLimit: 4194304 });
    expect(c.store).toMatchObject({ sqlite: join(dir, 'sb.db'), durability: 'full' });
    expect(c.log).toEqual({ level: 'info' });
    const connectors = c.connectors as unknown as Record<string, unknown>[];
    expect(connectors[0]).toMatchObject({ id: 'wa', platform: 'greenapi', ingestToken: '********', callRecords: 'all', language: 'ru', corsOrigins: [], polling: { apiUrl: 'https://api.green-api.com', idInstance: '1101000001', apiTokenInstance: '********' } });
    expect(connectors[1]).toMatchObject({ id: 'tw', url: 'wss://twin.example/ws', auth: { email: 'op@example.com', password: '********' } });
    expect(connectors[2]).toMatchObject({ auth: { token: '********' } });
    const subs = c.subscriptions as unknown as Record<string, unknown>[];
    expect(subs[0]).toMatchObject({ id: 's1', secret: '********' });
    expect(subs[0]?.url).toMatch(/^https:\/\/hooks\.example\.com\/x\?token=\*+&team=blue$/);
    expect(c.delivery).toMatchObject({ allowPrivateTargets: false, concurrencyPerTarget: 4 });
    expect(c.nats).toMatchObject({ url: 'nats://natsuser:********@127.0.0.1:4222', token: '********', user: 'natsuser', pass: '********', stream: 'SWITCHBOARD' });
  });

  it('honours SWITCHBOARD_CONFIG as serve does', async () => {
    const r = await check([], { SWITCHBOARD_CONFIG: valid, MY_API_TOKEN: 'api-secret-TOKEN-111' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(valid);
    expect((parse(r.stdout) as { connectors: { id: string }[] }).connectors.map((x) => x.id)).toEqual(['wa', 'tw', 'tw2', 'th']);
  });

  it('without a config, shows the embedded default', async () => {
    const r = await check(['--data', join(dir, 'data')]);
    expect(r.code).toBe(0);
    const c = parse(r.stdout) as { dataDir: string; connectors: { id: string; ingestToken?: string }[] };
    expect(c.dataDir).toBe(join(dir, 'data'));
    expect(c.connectors.map((x) => x.id)).toContain('greenapi');
    expect(r.stdout).toMatch(/embedded default/);
  });

  it('lists every problem of an invalid config at once, without showing secrets, and exits 1', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'server: { port: 99999, apiToken: "shrt7" }',
        'connectors:',
        '  - { id: wa, platform: greenap, ingestToken: "xxxxxxxxxx" }',
        '  - { id: wa, platform: widget, ingestToken: "xxxxxxxxxx" }',
        '  - { id: tw, platform: twin, auth: { email: "op@example.com" } }',
      ].join('\n'),
    );
    const r = await check(['--config', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('5 problems');
    for (const line of [
      'server.port: expected <= 65535, found number 99999',
      'server.apiToken: expected length >= 8',
      'connectors[0].platform: expected one of',
      'did you mean "greenapi"',
      'connectors[1].id: expected an id no other connector has, found a second "wa"',
      'connectors[2].auth.password: expected string, found nothing',
    ])
      expect(r.stderr).toContain(line);
    expect(r.stderr).not.toContain('shrt7');
  });
});
