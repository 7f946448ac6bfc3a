/**
 * Target safety (DESIGN §5): webhook targets on loopback, private, link-local and other
 * non-public ranges are refused — at POST (400 with the reason), at start (config error), and
 * on every connection (a name that resolves to such an address later, DNS rebinding) — unless
 * `delivery.allowPrivateTargets` is true.
 */
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { withTestStore } from './helpers/postgres.js';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/core/index.js';
import { resolveConfig } from '../src/server/config.js';
import { nonPublicReason, resolvedProblem, safeLookup, urlProblem } from '../src/server/delivery/safety.js';
import { assertBuilt, freePort, makeTempDir, removeTempDirs, runCli } from './helpers/process.js';
import { chatMessage, startDeliveryServer, type DeliveryBody, type DeliveryServer, type ErrorBody } from './helpers/delivery.js';
import { startReceiver, waitFor, type Receiver } from './helpers/receiver.js';

describe('non-public addresses', () => {
  it('classifies loopback, private, link-local, special and IPv4-embedding IPv6 addresses', () => {
    const nonPublic = ['127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '192.0.2.1', '198.18.0.1', '::1', '::', 'fe80::1', 'fd12:3456::1', 'fc00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a00:1', '2002:7f00:1::1', '2002:c0a8:101::1', '2001:db8::1', 'fe80::1%eth0'];
    for (const ip of nonPublic) expect(nonPublicReason(ip), ip).toBeDefined();
    for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '203.0.114.10', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']) expect(nonPublicReason(ip), ip).toBeUndefined();
    expect(nonPublicReason('127.0.0.1')).toBe('a loopback address (127.0.0.0/8)');
    expect(nonPublicReason('169.254.169.254')).toBe('a link-local address (169.254.0.0/16)');
    expect(nonPublicReason('::ffff:7f00:1')).toMatch(/embedding 127\.0\.0\.1, a loopback address/);
    expect(nonPublicReason('2002:c0a8:101::1')).toBe('an IPv6 address embedding 192.168.1.1, a private address (RFC 1918) (192.168.0.0/16)');
    expect(nonPublicReason('example.com')).toBe('not an IP address');
  });

  it('refuses URLs by their host without resolving: IP literals in every spelling, localhost names', () => {
    for (const url of ['http://127.0.0.1/hook', 'http://127.1/', 'http://2130706433/', 'http://0x7f.0.0.1/', 'http://[::1]:8080/', 'http://[::ffff:127.0.0.1]/', 'http://localhost:3000/', 'http://api.localhost/', 'http://10.1.2.3/', 'https://192.168.0.10/x', 'http://[fd00::1]/']) {
      expect(urlProblem(url, false), url).toMatch(/delivery\.allowPrivateTargets/);
      expect(urlProblem(url, true), url).toBeUndefined();
    }
    expect(urlProblem('https://203.0.114.10/hook', false)).toBeUndefined();
    expect(urlProblem('https://user:pw@example.com/', true)).toMatch(/without user:password/);
    expect(urlProblem('file:///etc/passwd', true)).toMatch(/http:\/\/ or https:\/\//);
  });

  it('resolves names and refuses those that resolve to a non-public address', async () => {
    const resolver = async (host: string) => (host === 'inside.test' ? [{ address: '10.9.8.7', family: 4 }] : host === 'mixed.test' ? [{ address: '93.184.215.14', family: 4 }, { address: '::1', family: 6 }] : [{ address: '93.184.215.14', family: 4 }]);
    const inside = await resolvedProblem('https://inside.test/hook', false, resolver);
    expect(inside?.kind).toBe('refused');
    expect(inside?.expected).toMatch(/inside\.test resolves to 10\.9\.8\.7, a private address \(RFC 1918\)/);
    expect((await resolvedProblem('https://mixed.test/hook', false, resolver))?.expected).toMatch(/resolves to ::1, a loopback address/);
    expect(await resolvedProblem('https://outside.test/hook', false, resolver)).toBeUndefined();
    expect(await resolvedProblem('https://inside.test/hook', true, resolver)).toBeUndefined();
    const failing = async () => {
      throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    };
    expect(await resolvedProblem('https://nowhere.test/', false, failing)).toEqual({ kind: 'unresolved', expected: 'a host name that resolves; nowhere.test does not (ENOTFOUND)' });
  });

  it('checks the addresses actually connected to: a name that now resolves to loopback is refused by the connection lookup', async () => {
    const receiver = await startReceiver();
    const port = new URL(receiver.url).port;
    // "rebind.test" resolved to a public address when the subscription was made; now it answers 127.0.0.1.
    const resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const strict = new Agent({ connect: { lookup: safeLookup(false, resolver) } });
    const lax = new Agent({ connect: { lookup: safeLookup(true, resolver) } });
    try {
      const refused = request(`http://rebind.test:${port}/hook`, { method: 'POST', body: '{}', dispatcher: strict });
      await expect(refused).rejects.toThrow(/refused: rebind\.test resolves to 127\.0\.0\.1, a loopback address/);
      expect(receiver.received).toHaveLength(0);
      const allowed = await request(`http://rebind.test:${port}/hook`, { method: 'POST', body: '{}', dispatcher: lax });
      expect(allowed.statusCode).toBe(200);
      await allowed.body.dump();
      expect(receiver.received).toHaveLength(1);
    } finally {
      await strict.close();
      await lax.close();
      await receiver.close();
    }
  });
});

describe('without delivery.allowPrivateTargets', () => {
  let s: DeliveryServer;
  let r: Receiver;
  beforeAll(async () => {
    r = await startReceiver();
    s = await startDeliveryServer({ delivery: { allowPrivateTargets: false } });
  });
  afterAll(async () => {
    await s.close();
    await r.close();
    removeTempDirs();
  });

  it('refuses a subscription to http://127.0.0.1/… with 400 and the precise reason', async () => {
    const res = await s.api<ErrorBody>('POST', '/v1/subscriptions', { url: r.url });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('SB_ERR_SUBSCRIPTION_TARGET_REFUSED');
    expect(res.json.error.message).toBe(
      `at url: expected a public target; 127.0.0.1 is a loopback address (127.0.0.0/8), and outgoing webhooks to loopback, private and link-local ranges are refused unless delivery.allowPrivateTargets is true, found ${JSON.stringify(r.url)}`,
    );
    for (const url of ['http://localhost:9/x', 'http://[::1]/x', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.5/x', 'http://[::ffff:127.0.0.1]/x']) {
      const x = await s.api<ErrorBody>('POST', '/v1/subscriptions', { url });
      expect(x.status, url).toBe(400);
      expect(x.json.error.code, url).toBe('SB_ERR_SUBSCRIPTION_TARGET_REFUSED');
    }
    // Changing an existing subscription's URL is checked the same way.
    const pub = await s.api<{ id: string }>('POST', '/v1/subscriptions', { url: 'https://203.0.114.10/hook', enabled: false });
    expect(pub.status).toBe(201);
    const moved = await s.api<ErrorBody>('PATCH', `/v1/subscriptions/${pub.json.id}`, { url: r.url });
    expect(moved.status).toBe(400);
    expect(moved.json.error.code).toBe('SB_ERR_SUBSCRIPTION_TARGET_REFUSED');
    expect((await s.api('DELETE', `/v1/subscriptions/${pub.json.id}`)).status).toBe(204);
    expect(r.received).toHaveLength(0);
  });

  const host = hostname();
  it('refuses a name that resolves to a non-public address at POST, and again at delivery time', async (ctx) => {
    const addresses = await lookup(host, { all: true }).catch(() => []);
    if (!addresses.some((a) => nonPublicReason(a.address))) ctx.skip(); // this machine's name must resolve to loopback/private
    const url = `http://${host}:${new URL(r.url).port}/hook`;
    const res = await s.api<ErrorBody>('POST', '/v1/subscriptions', { url });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(new RegExp(`${host} resolves to \\S+, a`));
    // The name resolved to a public address when the subscription was made (written straight
    // into the store here, past the API's check); now it resolves to an internal one: the
    // connection is refused.
    await s.close(true);
    await withTestStore(s.dir, join(s.dir, 'sb.db'), (store) =>
      store.delivery.put({
        id: 'rebound',
        origin: 'api',
        url,
        filters: {},
        mode: 'structured',
        ordered: false,
        secrets: [{ secret: `whsec_${Buffer.alloc(32, 3).toString('base64')}`, expiresAt: null }],
        description: undefined,
        enabled: true,
        disabledReason: undefined,
      }),
    );
    s = await startDeliveryServer({ delivery: { allowPrivateTargets: false, retrySchedule: ['0ms', '1h'] } }, s.dir);
    await s.ingest([chatMessage('79005550001', 'to a rebound name')]);
    await waitFor(async () => ((await s.api<{ deliveries: DeliveryBody[] }>('GET', '/v1/subscriptions/rebound/deliveries')).json.deliveries[0]?.attempts ?? 0) >= 1, 10_000);
    const [d] = (await s.api<{ deliveries: DeliveryBody[] }>('GET', '/v1/subscriptions/rebound/deliveries')).json.deliveries;
    expect(d?.lastStatus).toBeNull();
    expect(d?.lastError).toMatch(new RegExp(`refused: ${host} resolves to \\S+, a .*delivery\\.allowPrivateTargets`));
    expect(r.received).toHaveLength(0);
  });
});

describe('allowed with delivery.allowPrivateTargets: true', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  it('accepts and delivers to a loopback receiver', async () => {
    const r = await startReceiver();
    const s = await startDeliveryServer({ delivery: { allowPrivateTargets: true } });
    cleanups.push(() => s.close(), () => r.close());
    const res = await s.api<{ secret: string }>('POST', '/v1/subscriptions', { url: r.url });
    expect(res.status).toBe(201);
    r.secrets = [res.json.secret];
    await s.ingest([chatMessage('79005550002', 'allowed')]);
    await waitFor(() => r.deliveredIds().size === 1, 10_000);
    expect(r.received[0]?.verifyError).toBeUndefined();
  });
});

describe('config', () => {
  it('refuses a private target in the config unless allowed, naming the key path', () => {
    try {
      resolveConfig({ subscriptions: [{ id: 'crm', url: 'http://127.0.0.1:9000/hook' }] }, { env: {} });
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues).toEqual([
        {
          path: 'subscriptions[0].url',
          expected: 'a public target; 127.0.0.1 is a loopback address (127.0.0.0/8), and outgoing webhooks to loopback, private and link-local ranges are refused unless delivery.allowPrivateTargets is true',
          found: 'string "http://127.0.0.1:9000/hook"',
        },
      ]);
    }
    expect(resolveConfig({ subscriptions: [{ id: 'crm', url: 'http://127.0.0.1:9000/hook' }], delivery: { allowPrivateTargets: true } }, { env: {} }).subscriptions).toHaveLength(1);
  });

  it('`switchboard serve` stops at start with the config error', async () => {
    assertBuilt();
    const dir = makeTempDir('sb-safety-');
    const file = `${dir}/config.json`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, JSON.stringify({ server: { port: await freePort() }, subscriptions: [{ id: 'crm', url: 'http://localhost:9000/hook' }] }));
    const child = runCli(['serve', '--config', file, '--data', dir]);
    const exit = await child.exited;
    expect(exit.code).toBe(1);
    expect(child.stderr).toContain('subscriptions[0].url: expected a public target; localhost names the loopback interface');
  });
});
