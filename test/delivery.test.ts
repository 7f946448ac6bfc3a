/**
 * Outgoing webhooks (docs/delivery.md): the subscriptions API, signing and secret rotation as
 * verified by the `standardwebhooks` package, structured and binary CloudEvents as parsed by the
 * `cloudevents` package, filters, the outbox, retries with Retry-After, exhaustion, 410 and
 * `disableAfter`, config subscriptions and metrics. Real receivers on loopback.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/core/index.js';
import { resolveConfig } from '../src/server/config.js';
import { callOffer, chatMessage, startDeliveryServer, type DeliveryBody, type DeliveryServer, type ErrorBody, type SubscriptionBody } from './helpers/delivery.js';
import { startReceiver, waitFor, type Receiver } from './helpers/receiver.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(config: Parameters<typeof startDeliveryServer>[0] = {}): Promise<{ s: DeliveryServer; r: Receiver }> {
  const r = await startReceiver();
  const s = await startDeliveryServer(config);
  cleanups.push(() => r.close(), () => s.close());
  return { s, r };
}

async function subscribe(s: DeliveryServer, r: Receiver, body: Record<string, unknown> = {}): Promise<SubscriptionBody> {
  const res = await s.api<SubscriptionBody>('POST', '/v1/subscriptions', { url: r.url, ...body });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  if (res.json.secret) r.secrets = [res.json.secret];
  return res.json;
}

async function deliveries(s: DeliveryServer, id: string, query = ''): Promise<DeliveryBody[]> {
  const res = await s.api<{ deliveries: DeliveryBody[] }>('GET', `/v1/subscriptions/${id}/deliveries${query}`);
  expect(res.status).toBe(200);
  return res.json.deliveries;
}

describe('subscriptions API', () => {
  it('creates a subscription, shows its secret once, lists, reads, changes and deletes it', async () => {
    const { s, r } = await setup();
    const created = await subscribe(s, r, { id: 'crm', filters: { types: ['call.*'] }, description: 'the CRM' });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({ id: 'crm', url: r.url, mode: 'structured', ordered: false, enabled: true, origin: 'api', filters: { types: ['call.*'] } });
    expect(created.secrets).toEqual([{ hint: `${(created.secret as string).slice(0, 10)}…`, expiresAt: null }]);

    const list = await s.api<{ subscriptions: SubscriptionBody[] }>('GET', '/v1/subscriptions');
    expect(list.json.subscriptions.map((x) => x.id)).toEqual(['crm']);
    expect(JSON.stringify(list.json)).not.toContain(created.secret);
    const one = await s.api<SubscriptionBody>('GET', '/v1/subscriptions/crm');
    expect(one.json).toMatchObject({ id: 'crm', deliveries: { pending: 0, delivered: 0, failed: 0 } });
    expect(one.json.secret).toBeUndefined();

    const changed = await s.api<SubscriptionBody>('PATCH', '/v1/subscriptions/crm', { mode: 'binary', ordered: true, enabled: false });
    expect(changed.json).toMatchObject({ mode: 'binary', ordered: true, enabled: false, disabledReason: 'disabled through the API' });

    // A generated id, a given secret.
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const second = await s.api<SubscriptionBody>('POST', '/v1/subscriptions', { url: r.url, secret });
    expect(second.status).toBe(201);
    expect(second.json.id).toMatch(/^sub_/);
    expect(second.json.secret).toBe(secret);

    expect((await s.api('DELETE', '/v1/subscriptions/crm')).status).toBe(204);
    expect((await s.api<ErrorBody>('GET', '/v1/subscriptions/crm')).json.error.code).toBe('SB_ERR_NOT_FOUND');
    expect((await s.api<ErrorBody>('DELETE', '/v1/subscriptions/crm')).status).toBe(404);
  });

  it('refuses invalid subscriptions with 400 naming the field, and a taken id with 409', async () => {
    const { s, r } = await setup();
    const cases: [unknown, string, RegExp][] = [
      ['{not json', 'SB_ERR_SUBSCRIPTION_INVALID', /not JSON/],
      [{}, 'SB_ERR_SUBSCRIPTION_INVALID', /at url: expected string/],
      [{ url: 'ftp://x.example/' }, 'SB_ERR_SUBSCRIPTION_INVALID', /at url: expected an http:\/\/ or https:\/\/ URL/],
      [{ url: 'not a url' }, 'SB_ERR_SUBSCRIPTION_INVALID', /at url: expected an absolute/],
      [{ url: r.url, mode: 'fancy' }, 'SB_ERR_SUBSCRIPTION_INVALID', /at mode: expected one of "structured", "binary"/],
      [{ url: r.url, secret: 'hunter2' }, 'SB_ERR_SUBSCRIPTION_INVALID', /at secret: expected a secret "whsec_"/],
      [{ url: r.url, filters: { types: ['CALL'] } }, 'SB_ERR_SUBSCRIPTION_INVALID', /at filters\.types\[0\]: expected a type pattern/],
      [{ url: r.url, filters: { platform: 'telegram' } }, 'SB_ERR_SUBSCRIPTION_INVALID', /at filters\.platform/],
      [{ url: r.url, colour: 'blue' }, 'SB_ERR_SUBSCRIPTION_INVALID', /colour/],
      [{ url: r.url, id: 'has space' }, 'SB_ERR_SUBSCRIPTION_INVALID', /at id/],
    ];
    for (const [body, code, message] of cases) {
      const res = await s.api<ErrorBody>('POST', '/v1/subscriptions', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe(code);
      expect(res.json.error.message).toMatch(message);
    }
    await subscribe(s, r, { id: 'dup' });
    const again = await s.api<ErrorBody>('POST', '/v1/subscriptions', { id: 'dup', url: r.url });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('SB_ERR_SUBSCRIPTION_EXISTS');
    const noToken = await fetch(`${s.url}/v1/subscriptions`);
    expect(noToken.status).toBe(401);
  });
});

describe('delivering', () => {
  it('sends a structured CloudEvent signed per Standard Webhooks, recorded as delivered', async () => {
    const { s, r } = await setup();
    // The receiver takes 150 ms to answer: the attempt's recorded duration includes it.
    r.decide = () => ({ status: 200, delayMs: 150 });
    const sub = await subscribe(s, r, { id: 'crm' });
    const ingest = await s.ingest([chatMessage('79001110001', 'hello')]);
    expect(ingest.events).toBe(1);
    await waitFor(() => r.received.length >= 1, 10_000);
    const got = r.received[0];
    if (!got) throw new Error('nothing received');
    expect(got.verifyError).toBeUndefined();
    expect(got.verifiedWith).toBe(0);
    expect(got.parseError).toBeUndefined();
    expect(got.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    expect(got.event).toMatchObject({ specversion: '1.0', type: 'message.created', platform: 'greenapi', subject: 'conversation/79001110001@c.us' });
    expect(got.webhookId).toBe(got.event?.id);
    expect((got.event?.data as { text: string }).text).toBe('hello');
    expect(got.event?.sequence).toMatch(/^\d{16}$/);
    // The signature is HMAC-SHA256 of "id.timestamp.body" with the key, as the package computes it.
    const wh = new Webhook(sub.secret as string);
    expect(got.headers['webhook-signature']).toBe(wh.sign(got.webhookId, new Date(Number(got.headers['webhook-timestamp']) * 1000), got.body));
    // A wrong secret does not verify.
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got.body, got.headers as Record<string, string>)).toThrow();

    await waitFor(async () => (await deliveries(s, 'crm'))[0]?.status === 'delivered', 10_000);
    const [d] = await deliveries(s, 'crm');
    expect(d).toMatchObject({ eventId: got.webhookId, type: 'message.created', status: 'delivered', attempts: 1, lastStatus: 200, lastError: null, nextAttemptAt: null });
    expect(d?.attemptLog).toHaveLength(1);
    expect(d?.attemptLog[0]).toMatchObject({ round: 1, attempt: 1, status: 200, error: null, result: 'delivered' });
    expect(d?.attemptLog[0]?.durationMs).toBeGreaterThanOrEqual(145);
    expect(d?.attemptLog[0]?.durationMs).toBeLessThan(5000);
  });

  it('sends binary mode: data as the body, attributes as ce-* headers, parsed by the cloudevents package', async () => {
    const { s, r } = await setup();
    await subscribe(s, r, { mode: 'binary' });
    await s.ingest([callOffer('BIN-1')]);
    await waitFor(() => r.received.length >= 1, 10_000);
    const got = r.received[0];
    expect(got?.verifyError).toBeUndefined();
    expect(got?.parseError).toBeUndefined();
    expect(got?.headers['content-type']).toMatch(/^application\/json/);
    expect(got?.headers['ce-type']).toBe('call.ringing');
    expect(got?.event).toMatchObject({ type: 'call.ringing', subject: 'call/BIN-1', platform: 'greenapi', nativetype: 'incomingCall/offer' });
    expect(got?.event?.id).toBe(got?.webhookId);
    expect(JSON.parse(got?.body ?? '{}')).toMatchObject({ callId: 'BIN-1' });
  });

  it('sends only the events its filters match (types, platform, subject)', async () => {
    const { s, r } = await setup();
    await subscribe(s, r, { filters: { types: ['call.*'], platform: 'greenapi', subject: 'call/F-*' } });
    const other = await startReceiver();
    cleanups.push(() => other.close());
    await subscribe(s, other, { filters: { types: ['message.created'] } });
    await s.ingest([callOffer('F-1'), callOffer('G-1'), chatMessage('79001110002', 'm'), callOffer('F-2')]);
    await waitFor(() => r.received.length >= 2 && other.received.length >= 1, 10_000);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.received.map((x) => x.event?.subject).sort()).toEqual(['call/F-1', 'call/F-2']);
    expect(other.received.map((x) => x.event?.type)).toEqual(['message.created']);
  });

  it('writes the outbox row in the commit: a delivery is pending as soon as the ingest is acknowledged', async () => {
    const { s, r } = await setup({ delivery: { retrySchedule: ['0ms', '1h'] } });
    r.decide = () => ({ status: 500 });
    await subscribe(s, r, { id: 'down' });
    await s.ingest([chatMessage('79001110003', 'kept')]);
    // Straight after the ack, before any attempt could have finished, the row is there.
    const rows = await deliveries(s, 'down');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBe('pending');
  });

  it('retries on its schedule, honours Retry-After, and records every attempt with status, error and duration', async () => {
    const { s, r } = await setup({ delivery: { retrySchedule: ['0ms', '50ms', '50ms', '50ms', '50ms'], timeout: '1s' } });
    r.decide = ({ n }) => (n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : n === 2 ? { status: 500 } : n === 3 ? 'reset' : n === 4 ? { status: 200, delayMs: 2000 } : { status: 204 });
    await subscribe(s, r, { id: 'flaky' });
    await s.ingest([chatMessage('79001110004', 'retry me')]);
    await waitFor(async () => (await deliveries(s, 'flaky'))[0]?.status === 'delivered', 10_000, () => JSON.stringify(r.received.map((x) => x.answer)));
    const [d] = await deliveries(s, 'flaky');
    expect(d?.attempts).toBe(5);
    const log = d?.attemptLog ?? [];
    expect(log.map((a) => a.result)).toEqual(['failed', 'failed', 'failed', 'failed', 'delivered']);
    expect(log[0]).toMatchObject({ status: 503, error: 'HTTP 503: answer 503' });
    expect(log[1]).toMatchObject({ status: 500, error: 'HTTP 500: answer 500' });
    expect(log[2]?.status).toBeNull();
    expect(log[2]?.error).toMatch(/UND_ERR_SOCKET|ECONNRESET|socket|closed/i);
    expect(log[3]).toMatchObject({ status: null, error: 'timed out after 1000 ms' });
    expect(log[3]?.durationMs).toBeGreaterThanOrEqual(990);
    expect(log[4]).toMatchObject({ status: 204, error: null });
    // Retry-After: 1 held the second attempt back a second, though the schedule said 50 ms.
    const gap = Date.parse(log[1]?.at ?? '') - Date.parse(log[0]?.at ?? '');
    expect(gap).toBeGreaterThanOrEqual(950);
    // Every attempt carried the same webhook-id, the event id, and verified.
    expect(new Set(r.received.map((x) => x.webhookId)).size).toBe(1);
    expect(r.received.every((x) => x.verifyError === undefined && x.webhookId === x.event?.id)).toBe(true);
    const metrics = await s.metrics();
    expect(metrics).toMatch(/switchboard_deliveries_total\{subscription="flaky",result="failed"\} 4/);
    expect(metrics).toMatch(/switchboard_deliveries_total\{subscription="flaky",result="delivered"\} 1/);
    expect(metrics).toMatch(/switchboard_delivery_queue_depth\{subscription="flaky"\} 0/);
  });

  it('lists exhausted deliveries as failed and sends them again on replay of the failed ones', async () => {
    const { s, r } = await setup({ delivery: { retrySchedule: ['0ms', '20ms', '20ms'] } });
    let fail = true;
    r.decide = () => (fail ? { status: 500 } : { status: 200 });
    await subscribe(s, r, { id: 'x' });
    await s.ingest([chatMessage('79001110005', 'a'), chatMessage('79001110005', 'b')]);
    await waitFor(async () => (await deliveries(s, 'x', '?status=failed')).length === 2, 10_000);
    const failed = await deliveries(s, 'x', '?status=failed');
    expect(failed.map((d) => d.attempts)).toEqual([3, 3]);
    expect(failed[0]?.attemptLog.map((a) => a.result)).toEqual(['failed', 'failed', 'exhausted']);
    expect(await s.metrics()).toMatch(/switchboard_delivery_failed\{subscription="x"\} 2/);
    fail = false;
    const replay = await s.api<{ enqueued: number }>('POST', '/v1/subscriptions/x/replay', { onlyFailed: true });
    expect(replay.status).toBe(202);
    expect(replay.json.enqueued).toBe(2);
    await waitFor(async () => (await deliveries(s, 'x', '?status=delivered')).length === 2, 10_000);
    expect(await deliveries(s, 'x', '?status=failed')).toEqual([]);
    const [d] = await deliveries(s, 'x');
    expect(d).toMatchObject({ round: 2, attempts: 1, status: 'delivered' });
    expect(d?.attemptLog.map((a) => `${a.round}.${a.attempt}:${a.result}`)).toEqual(['1.1:failed', '1.2:failed', '1.3:exhausted', '2.1:delivered']);
  });

  it('sends one delivery now: a failed one in a new round, a pending one without the rest of its wait; others stay as they are', async () => {
    const { s, r } = await setup({ delivery: { retrySchedule: ['0ms', '1h', '1h'] } });
    let fail = true;
    r.decide = () => (fail ? { status: 500 } : { status: 200 });
    await subscribe(s, r, { id: 'one' });
    await s.ingest([chatMessage('79001110007', 'a'), chatMessage('79001110007', 'b')]);
    // Both failed once and now wait an hour.
    await waitFor(async () => (await deliveries(s, 'one')).every((d) => d.attempts === 1), 10_000);
    const [first, second] = await deliveries(s, 'one', '?status=pending');
    fail = false;
    const res = await s.api<DeliveryBody>('POST', `/v1/subscriptions/one/deliveries/${first?.id}/retry`);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ id: first?.id, status: 'pending', attempts: 1, round: 1 });
    await waitFor(async () => (await deliveries(s, 'one', '?status=delivered')).length === 1, 10_000);
    expect((await deliveries(s, 'one', '?status=delivered')).map((d) => d.id)).toEqual([first?.id]);
    expect((await deliveries(s, 'one', '?status=pending')).map((d) => [d.id, d.attempts])).toEqual([[second?.id, 1]]);
    // A delivered one goes again, in a new round.
    const again = await s.api<DeliveryBody>('POST', `/v1/subscriptions/one/deliveries/${first?.id}/retry`);
    expect(again.json).toMatchObject({ status: 'pending', attempts: 0, round: 2 });
    await waitFor(async () => (await deliveries(s, 'one', '?status=delivered')).some((d) => d.round === 2), 10_000);
    expect(r.received.filter((x) => x.ok)).toHaveLength(2);
    // Unknown deliveries and subscriptions are 404s; another subscription's delivery is not this one's.
    expect((await s.api('POST', '/v1/subscriptions/one/deliveries/999999/retry')).status).toBe(404);
    expect((await s.api('POST', `/v1/subscriptions/nope/deliveries/${first?.id}/retry`)).status).toBe(404);
    await subscribe(s, r, { id: 'other' });
    expect((await s.api('POST', `/v1/subscriptions/other/deliveries/${first?.id}/retry`)).status).toBe(404);
  });

  it('disables a subscription whose target answers 410, and resumes its pending deliveries when enabled again', async () => {
    const { s, r } = await setup();
    let gone = true;
    r.decide = () => (gone ? { status: 410 } : { status: 200 });
    await subscribe(s, r, { id: 'gone' });
    await s.ingest([chatMessage('79001110006', 'x')]);
    await waitFor(async () => !(await s.api<SubscriptionBody>('GET', '/v1/subscriptions/gone')).json.enabled, 10_000);
    const sub = (await s.api<SubscriptionBody>('GET', '/v1/subscriptions/gone')).json;
    expect(sub.disabledReason).toMatch(/410 Gone/);
    expect(sub.deliveries.pending).toBe(1);
    expect(await s.metrics()).toMatch(/switchboard_subscriptions_disabled_total\{reason="gone"\} 1/);
    expect(await s.metrics()).toMatch(/switchboard_subscription_enabled\{subscription="gone"\} 0/);
    // Events committed while disabled are not queued for it (replay sends them later).
    await s.ingest([chatMessage('79001110006', 'while disabled')]);
    expect(r.received).toHaveLength(1);
    gone = false;
    const enabled = await s.api<SubscriptionBody>('PATCH', '/v1/subscriptions/gone', { enabled: true });
    expect(enabled.json).toMatchObject({ enabled: true, disabledReason: null });
    await waitFor(() => r.deliveredIds().size === 1, 10_000);
    // The receiver saw it before its answer reached Switchboard: wait for the delivery to be recorded.
    await waitFor(async () => (await s.api<SubscriptionBody>('GET', '/v1/subscriptions/gone')).json.deliveries.delivered === 1, 10_000);
    expect((await s.api<SubscriptionBody>('GET', '/v1/subscriptions/gone')).json.deliveries).toEqual({ pending: 0, delivered: 1, failed: 0 });
  });

  it('disables a subscription failing for longer than delivery.disableAfter, with the reason and a metric', async () => {
    const { s, r } = await setup({ delivery: { retrySchedule: ['0ms', ...Array<string>(30).fill('100ms')], disableAfter: '700ms' } });
    r.decide = () => ({ status: 502 });
    await subscribe(s, r, { id: 'dead' });
    await s.ingest([chatMessage('79001110007', 'x')]);
    await waitFor(async () => !(await s.api<SubscriptionBody>('GET', '/v1/subscriptions/dead')).json.enabled, 10_000);
    const sub = (await s.api<SubscriptionBody>('GET', '/v1/subscriptions/dead')).json;
    expect(sub.disabledReason).toMatch(/every attempt failed since .* \(longer than delivery\.disableAfter\); last: HTTP 502/);
    // Several attempts, over at least disableAfter (how many fit in it depends on the machine's speed).
    expect(r.received.length).toBeGreaterThanOrEqual(3);
    const attempts = r.received.map((q) => q.at);
    expect((attempts.at(-1) ?? 0) - (attempts[0] ?? 0)).toBeGreaterThanOrEqual(400);
    expect(await s.metrics()).toMatch(/switchboard_subscriptions_disabled_total\{reason="failing"\} 1/);
    const count = r.received.length;
    await new Promise((res) => setTimeout(res, 400));
    expect(r.received.length).toBe(count);
  });

  it('bounds the requests in flight per target (scheme, host, port), across subscriptions', async () => {
    const { s, r } = await setup({ delivery: { concurrencyPerTarget: 3 } });
    r.decide = () => ({ status: 200, delayMs: 60 });
    await subscribe(s, r, { id: 'one' });
    await subscribe(s, r, { id: 'two' });
    await s.ingest(Array.from({ length: 20 }, (_, i) => chatMessage(`7900111${String(i).padStart(4, '0')}`, `c${i}`)));
    const done = async () => {
      const list = (await s.api<{ subscriptions: SubscriptionBody[] }>('GET', '/v1/subscriptions')).json.subscriptions;
      return list.every((x) => x.deliveries.delivered === 20);
    };
    await waitFor(done, 10_000);
    expect(r.received).toHaveLength(40);
    expect(r.concurrency.max).toBe(3);
  });

  it('rotates the secret: while the previous one is valid, each request carries two signatures', async () => {
    const { s, r } = await setup();
    const sub = await subscribe(s, r, { id: 'rot' });
    const old = sub.secret as string;
    const rotated = await s.api<SubscriptionBody>('POST', '/v1/subscriptions/rot/secret/rotate', { previousValidFor: '1h' });
    expect(rotated.status).toBe(200);
    const fresh = rotated.json.secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    expect(rotated.json.secrets).toHaveLength(2);
    expect(rotated.json.secrets[0]?.expiresAt).toBeNull();
    expect(Date.parse(rotated.json.secrets[1]?.expiresAt ?? '') - Date.now()).toBeGreaterThan(3_500_000);
    r.secrets = [old];
    await s.ingest([chatMessage('79001110008', 'x')]);
    await waitFor(() => r.received.length >= 1, 10_000);
    const got = r.received[0];
    expect(got?.headers['webhook-signature']?.toString().split(' ')).toHaveLength(2);
    // Receivers holding either secret verify it.
    expect(got?.verifiedWith).toBe(0);
    expect(() => new Webhook(fresh).verify(got?.body ?? '', got?.headers as Record<string, string>)).not.toThrow();
    expect((await s.api<ErrorBody>('POST', '/v1/subscriptions/rot/secret/rotate', { secret: 'whsec_c2hvcnQ=' })).json.error.code).toBe('SB_ERR_SUBSCRIPTION_INVALID');
    // Rotating again with previousValidFor 0s drops the secret being replaced at once.
    const again = await s.api<SubscriptionBody>('POST', '/v1/subscriptions/rot/secret/rotate', { previousValidFor: '0s' });
    const newest = again.json.secret as string;
    expect(again.json.secrets).toHaveLength(2); // the newest, and the first one (valid for the hour)
    r.secrets = [fresh, newest, old];
    await s.ingest([chatMessage('79001110008', 'y')]);
    await waitFor(() => r.received.length >= 2, 10_000);
    expect(r.received[1]?.headers['webhook-signature']?.toString().split(' ')).toHaveLength(2);
    expect(r.received[1]?.verifiedWith).toBe(1);
    expect(() => new Webhook(fresh).verify(r.received[1]?.body ?? '', r.received[1]?.headers as Record<string, string>)).toThrow();
  });
});

describe('config subscriptions', () => {
  it('creates them at start with a generated secret kept in the data folder, updates them, disables removed ones', async () => {
    const r = await startReceiver();
    cleanups.push(() => r.close());
    const first = await startDeliveryServer({ subscriptions: [{ id: 'cfg', url: r.url, filters: { types: ['message.*'] } }] });
    const file = join(first.dir, 'subscription-cfg.secret');
    expect(existsSync(file)).toBe(true);
    const secret = readFileSync(file, 'utf8').trim();
    r.secrets = [secret];
    const sub = (await first.api<SubscriptionBody>('GET', '/v1/subscriptions/cfg')).json;
    expect(sub).toMatchObject({ origin: 'config', filters: { types: ['message.*'] }, enabled: true });
    // Config subscriptions are changed in the config; only enabled is taken through the API.
    const refused = await first.api<ErrorBody>('PATCH', '/v1/subscriptions/cfg', { mode: 'binary' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('SB_ERR_SUBSCRIPTION_READONLY');
    expect((await first.api<ErrorBody>('DELETE', '/v1/subscriptions/cfg')).status).toBe(409);
    await first.ingest([chatMessage('79001110009', 'cfg')]);
    await waitFor(() => r.received.length >= 1, 10_000);
    expect(r.received[0]?.verifyError).toBeUndefined();
    await first.close(true);

    // Restart with a changed config: same secret, new mode.
    const second = await startDeliveryServer({ subscriptions: [{ id: 'cfg', url: r.url, mode: 'binary' }] }, first.dir);
    expect((await second.api<SubscriptionBody>('GET', '/v1/subscriptions/cfg')).json).toMatchObject({ mode: 'binary', filters: {} });
    await second.ingest([callOffer('CFG-1')]);
    await waitFor(() => r.received.length >= 2, 10_000);
    expect(r.received[1]?.verifyError).toBeUndefined();
    expect(r.received[1]?.headers['ce-type']).toBe('call.ringing');
    await second.close(true);

    // Removed from the config: disabled and handed to the API.
    const third = await startDeliveryServer({}, first.dir);
    cleanups.push(() => third.close());
    const removed = (await third.api<SubscriptionBody>('GET', '/v1/subscriptions/cfg')).json;
    expect(removed).toMatchObject({ origin: 'api', enabled: false, disabledReason: 'removed from the config' });
    expect((await third.api('DELETE', '/v1/subscriptions/cfg')).status).toBe(204);
  });

  it('validates the keys with their paths', () => {
    const issuesOf = (input: unknown) => {
      try {
        resolveConfig(input, { env: {} });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return Object.fromEntries((err as ConfigError).issues.map((i) => [i.path, i]));
      }
      throw new Error('expected a ConfigError');
    };
    const byPath = issuesOf({
      subscriptions: [
        { id: 'a', url: 'https://203.0.114.10/hook', mode: 'loud', secret: 'nope' },
        { id: 'a', url: 'https://198.51.100.7/hook', filters: { types: ['call'] } },
      ],
      delivery: { retrySchedule: ['5s', 'soon'], timeout: true, concurrencyPerTarget: 0, disableAfter: '5 days' },
      nats: { url: 'http://x', subjectPrefix: 'a..b' },
    });
    expect(byPath['subscriptions[0].mode']?.expected).toBe('one of "structured", "binary"');
    expect(byPath['subscriptions[0].secret']?.expected).toMatch(/whsec_/);
    expect(byPath['subscriptions[1].filters.types[0]']?.expected).toMatch(/type pattern/);
    expect(byPath['delivery.retrySchedule[1]']).toMatchObject({ found: 'string "soon"' });
    expect(byPath['delivery.retrySchedule[1]']?.expected).toMatch(/duration/);
    expect(byPath['delivery.timeout']).toMatchObject({ found: 'boolean true' });
    expect(byPath['delivery.concurrencyPerTarget']).toMatchObject({ expected: '>= 1' });
    expect(byPath['delivery.disableAfter']).toBeDefined();
    expect(byPath['nats.url']?.expected).toMatch(/NATS URL/);
    expect(byPath['nats.subjectPrefix']).toBeDefined();
    const dup = issuesOf({ subscriptions: [{ id: 'a', url: 'https://203.0.114.10/' }, { id: 'a', url: 'https://203.0.114.11/' }] });
    expect(dup['subscriptions[1].id']?.expected).toMatch(/no other subscription/);
    const ok = resolveConfig({ delivery: { retrySchedule: ['0s', '250ms', 1000, '1m', '2h', '1d'] }, nats: { url: 'nats://127.0.0.1:4222' } }, { env: {} });
    expect(ok.delivery.retrySchedule).toEqual([0, 250, 1000, 60_000, 7_200_000, 86_400_000]);
    expect(ok.delivery).toMatchObject({ timeout: 15_000, disableAfter: 5 * 86_400_000, allowPrivateTargets: false, concurrencyPerTarget: 4 });
    expect(ok.nats).toMatchObject({ url: 'nats://127.0.0.1:4222', stream: 'SWITCHBOARD', subjectPrefix: 'switchboard' });
    const defaults = resolveConfig({}, { env: {} });
    expect(defaults.delivery.retrySchedule).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(defaults.subscriptions).toEqual([]);
    expect(defaults.nats).toBeUndefined();
  });
});

describe('metrics', () => {
  let s: DeliveryServer;
  beforeAll(async () => {
    s = await startDeliveryServer();
  });
  afterAll(async () => s.close());
  it('exposes delivery metrics', async () => {
    const m = await s.metrics();
    for (const name of ['switchboard_deliveries_total', 'switchboard_delivery_queue_depth', 'switchboard_delivery_in_flight', 'switchboard_delivery_attempt_seconds', 'switchboard_subscriptions_disabled_total', 'switchboard_subscription_enabled']) {
      expect(m).toContain(`# HELP ${name}`);
    }
  });
});
