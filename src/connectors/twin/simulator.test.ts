/**
 * The TWIN simulator speaks Centrifugo's JSON client protocol well enough for the OFFICIAL
 * `centrifuge` client (npm `centrifuge` v5, on Node with `ws`): connect with the token in `data`,
 * server-side subscriptions, publications with offsets, reconnect and recovery, token expiry,
 * refused tokens, server pings, client publish/rpc/send, history — plus the IAM login endpoint.
 */
import {
  Centrifuge,
  connectingCodes,
  type ConnectedContext,
  type ConnectingContext,
  type DisconnectedContext,
  type ErrorContext,
  type Options,
  type ServerPublicationContext,
  type ServerSubscribedContext,
} from 'centrifuge';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { TWIN_EVENTS, TWIN_SCENARIOS } from './scenarios.js';
import { TwinSimulator, type TwinSimulatorOptions, type TwinStreamPosition } from './simulator.js';

const CH = 'notifications';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function startSim(o: TwinSimulatorOptions = {}): Promise<{ sim: TwinSimulator; wsUrl: string; iamUrl: string }> {
  const sim = new TwinSimulator(o);
  const urls = await sim.start();
  cleanup.push(() => sim.close());
  return { sim, ...urls };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** What an official client went through. */
interface Harness {
  client: Centrifuge;
  connected: ConnectedContext[];
  /** Why it went back to connecting (not counting its own connect() calls). */
  connecting: ConnectingContext[];
  disconnected: DisconnectedContext[];
  errors: ErrorContext[];
  subscribed: ServerSubscribedContext[];
  pubs: ServerPublicationContext[];
  /** Tokens handed out by getData, one per call. */
  tokens: string[];
}

type ConnectData = { application: string; settings: { token?: string } };

/**
 * An official client as the connector builds it: the token in `data`, fresh from `getData` on
 * every (re)connect; short reconnect delays for the tests.
 */
function harness(
  wsUrl: string,
  token: () => string | Promise<string>,
  o: { options?: Partial<Options>; seed?: Record<string, TwinStreamPosition>; data?: () => ConnectData; connect?: boolean } = {},
): Harness {
  const h: Harness = { client: undefined as unknown as Centrifuge, connected: [], connecting: [], disconnected: [], errors: [], subscribed: [], pubs: [], tokens: [] };
  const client = new Centrifuge(wsUrl, {
    websocket: WebSocket,
    getData: async () => {
      if (o.data) {
        h.tokens.push('');
        return o.data();
      }
      const t = await token();
      h.tokens.push(t);
      return { application: 'notifications', settings: { token: t } };
    },
    minReconnectDelay: 50,
    maxReconnectDelay: 200,
    timeout: 2000,
    ...o.options,
  });
  h.client = client;
  client.on('connected', (c) => h.connected.push(c));
  client.on('connecting', (c) => {
    if (c.code !== connectingCodes.connectCalled) h.connecting.push(c);
  });
  client.on('disconnected', (c) => h.disconnected.push(c));
  client.on('error', (c) => h.errors.push(c));
  client.on('subscribed', (c) => h.subscribed.push(c));
  client.on('publication', (c) => h.pubs.push(c));
  if (o.seed) {
    // Not a public API: the client keeps server-side positions in `_serverSubs` and asks to recover them on connect.
    const internal = client as unknown as { _serverSubs: Record<string, { offset: number; epoch: string; recoverable: boolean; subscribed: boolean }> };
    for (const [channel, p] of Object.entries(o.seed)) internal._serverSubs[channel] = { offset: p.offset, epoch: p.epoch, recoverable: true, subscribed: false };
  }
  cleanup.push(() => {
    client.disconnect();
    client.removeAllListeners();
  });
  if (o.connect !== false) client.connect();
  return h;
}

const offsets = (h: Harness) => h.pubs.map((p) => p.offset);
const twin = (n: number) => ({ event: 'chatMessageCreated', data: { id: `m-${n}`, text: `message ${n}` } });

describe('TwinSimulator with the official centrifuge client', () => {
  it('connects with the token in data, reports the server-side subscriptions and delivers publications in order', async () => {
    const { sim, wsUrl } = await startSim({ channels: [CH, 'operator#4217'] });
    // Published before the client exists: not delivered, but the stream position says where it stands.
    sim.publish(CH, twin(1));
    sim.publish(CH, twin(2));
    const h = harness(wsUrl, () => sim.issueToken());
    await waitFor(() => h.subscribed.length === 2, 'subscribed');

    expect(h.connected).toHaveLength(1);
    expect(h.connected[0]!.client).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.connected[0]!.transport).toBe('websocket');
    const main = h.subscribed.find((s) => s.channel === CH)!;
    expect(main).toMatchObject({ recoverable: true, positioned: true, wasRecovering: false, recovered: false, hasRecoveredPublications: false });
    expect(main.streamPosition).toEqual({ offset: 2, epoch: sim.streamPosition(CH).epoch });
    expect(main.streamPosition!.epoch).toMatch(/^[0-9a-f]{8}$/);
    const personal = h.subscribed.find((s) => s.channel === 'operator#4217')!;
    expect(personal.streamPosition).toEqual({ offset: 0, epoch: sim.streamPosition('operator#4217').epoch });
    expect(sim.connections).toBe(1);
    expect(sim.stats.connects).toBe(1);

    expect([sim.publish(CH, twin(3)), sim.publish(CH, twin(4)), sim.publish('operator#4217', { action: 'clientOffline', data: { id: 'c1' } }), sim.publish(CH, twin(5))]).toEqual([3, 4, 1, 5]);
    await waitFor(() => h.pubs.length === 4, 'publications');
    expect(h.pubs.map((p) => [p.channel, p.offset])).toEqual([
      [CH, 3],
      [CH, 4],
      ['operator#4217', 1],
      [CH, 5],
    ]);
    expect(h.pubs[0]!.data).toEqual(twin(3));
    expect(h.pubs[2]!.data).toEqual({ action: 'clientOffline', data: { id: 'c1' } });
    expect(sim.stats.publications).toBe(6);
    expect(h.tokens).toHaveLength(1);
  });

  it('after an abrupt drop the client reconnects by itself and recovers what it missed (recovered: true)', async () => {
    const { sim, wsUrl } = await startSim();
    const h = harness(wsUrl, () => sim.issueToken());
    await waitFor(() => h.subscribed.length === 1, 'subscribed');
    for (let i = 1; i <= 3; i++) sim.publish(CH, twin(i));
    await waitFor(() => h.pubs.length === 3, 'first publications');

    sim.dropConnections();
    expect(sim.connections).toBe(0);
    sim.publish(CH, twin(4));
    sim.publish(CH, twin(5));
    await waitFor(() => h.subscribed.length === 2, 'resubscribed');
    expect(h.connecting[0]).toMatchObject({ code: 1, reason: 'transport closed' });
    expect(h.subscribed[1]).toMatchObject({ channel: CH, wasRecovering: true, recovered: true, hasRecoveredPublications: true, streamPosition: { offset: 5, epoch: sim.streamPosition(CH).epoch } });
    await waitFor(() => h.pubs.length === 5, 'recovered publications');
    expect(offsets(h)).toEqual([1, 2, 3, 4, 5]);
    expect(h.pubs.map((p) => p.data)).toEqual([1, 2, 3, 4, 5].map(twin));

    sim.publish(CH, twin(6));
    await waitFor(() => h.pubs.length === 6, 'live publication after recovery');
    expect(offsets(h)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(h.disconnected).toEqual([]);
    expect(h.tokens).toHaveLength(2);
    expect(sim.stats).toMatchObject({ connects: 2, drops: 1, recovered: 1, notRecovered: 0 });
  });

  it('a drop with a reconnect code (3001, 4000-4499) reconnects and recovers; a terminal code (3503) stops the client', async () => {
    const { sim, wsUrl } = await startSim();
    const h = harness(wsUrl, () => sim.issueToken());
    await waitFor(() => h.subscribed.length === 1, 'subscribed');

    sim.dropConnections({ code: 3001, reason: 'shutdown' });
    sim.publish(CH, twin(1));
    await waitFor(() => h.subscribed.length === 2 && h.pubs.length === 1, 'recovery after 3001');
    expect(h.connecting[0]).toEqual({ code: 3001, reason: 'shutdown' });
    expect(h.subscribed[1]).toMatchObject({ wasRecovering: true, recovered: true });

    sim.dropConnections({ code: 4001, reason: 'custom reconnect' });
    sim.publish(CH, twin(2));
    await waitFor(() => h.subscribed.length === 3 && h.pubs.length === 2, 'recovery after 4001');
    expect(h.connecting[1]).toEqual({ code: 4001, reason: 'custom reconnect' });
    expect(offsets(h)).toEqual([1, 2]);

    sim.dropConnections({ code: 3503, reason: 'force disconnect' });
    await waitFor(() => h.disconnected.length === 1, 'disconnected');
    expect(h.disconnected[0]).toEqual({ code: 3503, reason: 'force disconnect' });
    await sleep(300);
    expect(h.client.state).toBe('disconnected');
    expect(sim.stats.connects).toBe(3);
  });

  it('when history no longer holds the missed publications the client reports recovered: false and gets none of them', async () => {
    const { sim, wsUrl } = await startSim();
    const h = harness(wsUrl, () => sim.issueToken());
    await waitFor(() => h.subscribed.length === 1, 'subscribed');
    for (let i = 1; i <= 3; i++) sim.publish(CH, twin(i));
    await waitFor(() => h.pubs.length === 3, 'publications');

    sim.dropConnections();
    for (let i = 4; i <= 8; i++) sim.publish(CH, twin(i));
    sim.trimHistory(CH, 2); // keeps 7 and 8: 4..6 are gone
    await waitFor(() => h.subscribed.length === 2, 'resubscribed');
    expect(h.subscribed[1]).toMatchObject({ wasRecovering: true, recovered: false, hasRecoveredPublications: false, streamPosition: { offset: 8, epoch: sim.streamPosition(CH).epoch } });
    await sleep(50);
    expect(offsets(h)).toEqual([1, 2, 3]);
    expect(sim.stats.notRecovered).toBe(1);

    // It goes on from the server's position.
    sim.publish(CH, twin(9));
    await waitFor(() => h.pubs.length === 4, 'live publication');
    expect(offsets(h)).toEqual([1, 2, 3, 9]);
    // The next drop recovers from there again.
    sim.dropConnections();
    sim.publish(CH, twin(10));
    await waitFor(() => h.subscribed.length === 3 && h.pubs.length === 5, 'second recovery');
    expect(h.subscribed[2]).toMatchObject({ wasRecovering: true, recovered: true });
    expect(offsets(h)).toEqual([1, 2, 3, 9, 10]);
  });

  it('token expiry on an open connection (3005) makes the client reconnect, calling getData again for a fresh token', async () => {
    const { sim, wsUrl } = await startSim();
    const h = harness(wsUrl, () => sim.issueToken(300));
    await waitFor(() => h.subscribed.length === 1, 'subscribed');
    await waitFor(() => h.connecting.length === 1, 'expiry disconnect', 2000);
    expect(h.connecting[0]).toEqual({ code: 3005, reason: 'connection expired' });
    await waitFor(() => h.subscribed.length === 2, 'reconnected');
    h.client.disconnect();
    expect(h.tokens.length).toBeGreaterThanOrEqual(2);
    expect(new Set(h.tokens).size).toBe(h.tokens.length);
    expect(h.subscribed[1]).toMatchObject({ wasRecovering: true, recovered: true });
    expect(h.disconnected.map((d) => d.code)).toEqual([0]);
    expect(sim.stats.expired).toBeGreaterThanOrEqual(1);
    expect(sim.stats.refusedConnects).toBe(0);
  });

  it('expireTokens() disconnects open connections; a connect with an expired token is refused with 3005 and retried with fresh data', async () => {
    const { sim, wsUrl } = await startSim();
    let calls = 0;
    // The first getData hands out a token that is already expired.
    const h = harness(wsUrl, () => sim.issueToken(++calls === 1 ? -1 : undefined));
    await waitFor(() => h.subscribed.length === 1, 'subscribed after a refused expired token');
    // A refusal while still connecting is retried without a connecting/disconnected event; the
    // app only gets an error event for the pending connect, without the close code.
    expect(h.connecting).toEqual([]);
    expect(h.errors).toEqual([{ type: 'connect', error: { code: 11, message: 'connection closed' } }]);
    expect(h.tokens).toHaveLength(2);
    expect(h.connected).toHaveLength(1);
    expect(sim.stats.refusedConnects).toBe(1);

    sim.expireTokens();
    await waitFor(() => h.subscribed.length === 2, 'reconnected after expireTokens');
    expect(h.connecting).toEqual([{ code: 3005, reason: 'connection expired' }]);
    expect(h.tokens).toHaveLength(3);
    expect(new Set(h.tokens).size).toBe(3);
    expect(h.disconnected).toEqual([]);
    sim.publish(CH, twin(1));
    await waitFor(() => h.pubs.length === 1, 'publication with the fresh token');
  });

  it('an invalid or missing token is refused with 3500 and the client stops (no reconnect loop); a wrong application with 3501', async () => {
    const { sim, wsUrl } = await startSim();
    const bogus = harness(wsUrl, () => 'not-a-token');
    const missing = harness(wsUrl, () => '', { data: () => ({ application: 'notifications', settings: {} }) });
    const wrongApp = harness(wsUrl, () => '', { data: () => ({ application: 'chat', settings: { token: sim.issueToken() } }) });
    await waitFor(() => bogus.disconnected.length === 1 && missing.disconnected.length === 1 && wrongApp.disconnected.length === 1, 'refusals');
    expect(bogus.disconnected[0]).toEqual({ code: 3500, reason: 'invalid token' });
    expect(missing.disconnected[0]).toEqual({ code: 3500, reason: 'invalid token' });
    expect(wrongApp.disconnected[0]).toEqual({ code: 3501, reason: 'bad request' });
    await sleep(400); // several reconnect delays (50..200 ms)
    for (const h of [bogus, missing, wrongApp]) {
      expect(h.client.state).toBe('disconnected');
      expect(h.tokens).toHaveLength(1);
      expect(h.connected).toEqual([]);
      expect(h.connecting).toEqual([]);
    }
    expect(sim.stats.refusedConnects).toBe(3);
    expect(sim.stats.connects).toBe(0);
  });

  it("expiredTokenReply 'error109': without getToken the client stops as unauthorized; a getToken returning '' lets it retry with fresh data", async () => {
    const { sim, wsUrl } = await startSim({ expiredTokenReply: 'error109' });
    const plain = harness(wsUrl, () => sim.issueToken(-1));
    await waitFor(() => plain.disconnected.length === 1, 'unauthorized');
    expect(plain.disconnected[0]).toEqual({ code: 1, reason: 'unauthorized' });
    expect(plain.errors.map((e) => [e.type, e.error.code])).toEqual([
      ['connect', 109],
      ['configuration', 12],
    ]);

    let calls = 0;
    const stub = harness(wsUrl, () => sim.issueToken(++calls === 1 ? -1 : undefined), { options: { getToken: async () => '' } });
    await waitFor(() => stub.subscribed.length === 1, 'connected after 109');
    expect(stub.errors.map((e) => [e.type, e.error.code])).toEqual([['connect', 109]]);
    expect(stub.connecting).toEqual([]); // retried while still connecting: only the error event tells
    expect(stub.tokens).toHaveLength(2);
    expect(stub.disconnected).toEqual([]);
    expect(sim.stats.refusedConnects).toBe(2);
  });

  it('server pings keep the connection alive past maxServerPingDelay, and the client answers each with a pong', async () => {
    const { sim, wsUrl } = await startSim({ pingIntervalMs: 250 });
    const h = harness(wsUrl, () => sim.issueToken(), { options: { maxServerPingDelay: 350 } });
    await waitFor(() => h.subscribed.length === 1, 'subscribed');
    await sleep(1500); // the client gives up after 250 + 350 ms without a ping; the server after one unanswered ping
    expect(h.client.state).toBe('connected');
    expect(h.connecting).toEqual([]);
    expect(sim.stats.connects).toBe(1);
    expect(sim.stats.pongs).toBeGreaterThanOrEqual(4);
  });

  it('client publish, rpc and send reach stats.received (the operator typing)', async () => {
    const { sim, wsUrl } = await startSim();
    const h = harness(wsUrl, () => sim.issueToken());
    await waitFor(() => h.subscribed.length === 1, 'subscribed');
    const typing = { event: 'typing', data: { chatId: 'chat-1', sessionId: 's-1' } };
    await expect(h.client.publish(CH, typing)).resolves.toEqual({});
    await expect(h.client.rpc('typing', { ...typing, via: 'rpc' })).resolves.toEqual({ data: {} });
    await h.client.send({ ...typing, via: 'send' });
    await waitFor(() => sim.stats.received.length === 3, 'received');
    expect(sim.stats.received).toEqual([typing, { ...typing, via: 'rpc' }, { ...typing, via: 'send' }]);
    expect(sim.inbound.map((i) => [i.kind, i.channel ?? i.method])).toEqual([
      ['publish', CH],
      ['rpc', 'typing'],
      ['send', undefined],
    ]);
  });

  it('the IAM endpoint issues tokens (ttl capped by tokenTtlMs) and refuses bad credentials and malformed bodies', async () => {
    const { sim, wsUrl, iamUrl } = await startSim({ users: { 'op@example.com': 's3cret' }, tokenTtlMs: 300 });
    const login = async (body: unknown, init: RequestInit = {}) => {
      const res = await fetch(`${iamUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...init });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const ok = await login({ email: 'op@example.com', password: 's3cret', ttl: 86400 });
    expect(ok.status).toBe(200);
    expect(typeof ok.body.token).toBe('string');

    expect(await login({ email: 'op@example.com', password: 'wrong' })).toEqual({ status: 401, body: { message: expect.any(String) } });
    expect((await login({ email: 'nobody@example.com', password: 's3cret' })).status).toBe(401);
    expect((await login('{not json')).status).toBe(400);
    expect((await login({ email: 'op@example.com' })).status).toBe(400);
    expect((await login({ email: 'op@example.com', password: 's3cret', ttl: -5 })).status).toBe(400);
    expect((await fetch(`${iamUrl}/api/v1/auth/login`)).status).toBe(405);
    expect((await fetch(`${iamUrl}/api/v1/other`, { method: 'POST' })).status).toBe(404);
    expect(sim.stats).toMatchObject({ logins: 1, failedLogins: 5 });

    // The connector's way: log in on every (re)connect. The token lives 300 ms (tokenTtlMs caps
    // the 24 h asked for), so the connection expires and the client logs in again.
    const h = harness(wsUrl, async () => (await login({ email: 'op@example.com', password: 's3cret', ttl: 86400 })).body.token as string);
    await waitFor(() => h.subscribed.length === 2, 'second login after expiry');
    expect(h.connecting[0]).toEqual({ code: 3005, reason: 'connection expired' });
    h.client.disconnect();
    expect(sim.stats.logins).toBeGreaterThanOrEqual(3);
  });

  it('positions across process restarts: a fresh client starts at the stream top; history(since) or a seeded position fills the gap', async () => {
    const { sim, wsUrl } = await startSim();
    const a = harness(wsUrl, () => sim.issueToken());
    await waitFor(() => a.subscribed.length === 1, 'a subscribed');
    for (let i = 1; i <= 3; i++) sim.publish(CH, twin(i));
    await waitFor(() => a.pubs.length === 3, 'a publications');
    // What a connector persists: the last offset it committed and the epoch of the subscription.
    const saved: TwinStreamPosition = { offset: a.pubs[2]!.offset!, epoch: a.subscribed[0]!.streamPosition!.epoch };
    a.client.disconnect();
    for (let i = 4; i <= 6; i++) sim.publish(CH, twin(i));

    // A new client knows nothing: no recovery asked, the missed 4..6 are not delivered.
    const b = harness(wsUrl, () => sim.issueToken());
    await waitFor(() => b.subscribed.length === 1, 'b subscribed');
    expect(b.subscribed[0]).toMatchObject({ wasRecovering: false, recovered: false, streamPosition: { offset: 6, epoch: saved.epoch } });
    // Supported way: history since the saved position.
    const hist = await b.client.history(CH, { since: saved, limit: 100 });
    expect(hist.publications.map((p) => [p.offset, p.data])).toEqual([4, 5, 6].map((n) => [n, twin(n)]));
    expect(hist).toMatchObject({ offset: 6, epoch: saved.epoch });
    expect((await b.client.history(CH)).publications).toEqual([]);
    expect((await b.client.history(CH, { limit: 2, reverse: true })).publications.map((p) => p.offset)).toEqual([6, 5]);
    await expect(b.client.history(CH, { since: { offset: 3, epoch: 'other' }, limit: 10 })).rejects.toMatchObject({ code: 112 });
    await expect(b.client.history('unknown', { limit: 10 })).rejects.toMatchObject({ code: 102 });

    // Unsupported but working with centrifuge 5.8: a position seeded into the client's internals is recovered on its first connect.
    const c = harness(wsUrl, () => sim.issueToken(), { seed: { [CH]: saved } });
    await waitFor(() => c.subscribed.length === 1 && c.pubs.length === 3, 'c recovered');
    expect(c.subscribed[0]).toMatchObject({ wasRecovering: true, recovered: true });
    expect(offsets(c)).toEqual([4, 5, 6]);
    // A seeded position from another epoch (the stream was reset) is reported as not recovered.
    const d = harness(wsUrl, () => sim.issueToken(), { seed: { [CH]: { offset: 3, epoch: 'gone' } } });
    await waitFor(() => d.subscribed.length === 1, 'd subscribed');
    expect(d.subscribed[0]).toMatchObject({ wasRecovering: true, recovered: false, streamPosition: { offset: 6, epoch: saved.epoch } });
    expect(d.pubs).toEqual([]);
  });

  it('every scenario publishes and arrives; `all` covers the 15 seed events', async () => {
    const { sim, wsUrl } = await startSim();
    const h = harness(wsUrl, () => sim.issueToken());
    await waitFor(() => h.subscribed.length === 1, 'subscribed');
    let total = 0;
    for (const name of Object.keys(TWIN_SCENARIOS)) total += sim.publishScenario(name).length;
    await waitFor(() => h.pubs.length === total, 'scenario publications');
    expect(offsets(h)).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    const names = (list: { event?: string; action?: string }[]) => new Set(list.map((p) => p.event ?? p.action));
    expect([...names(TWIN_SCENARIOS.all!.publications())].sort()).toEqual([...TWIN_EVENTS].sort());
    expect(names(TWIN_SCENARIOS['operator-blocked']!.publications()).has('operatorBlocked')).toBe(true);
    expect(names(TWIN_SCENARIOS['chat-user-exists']!.publications()).has('chatUserExists')).toBe(true);
    expect(names(TWIN_SCENARIOS['operator-logged-out']!.publications()).has('operatorLoggedOut')).toBe(true);
    expect(names(TWIN_SCENARIOS.handover!.publications())).toEqual(
      new Set(['chatSessionStarted', 'chatMessageCreated', 'operatorNotFound', 'chatSessionSwitchedFromBotToOperator', 'chatSessionAdded', 'typing', 'chatMessageRead', 'chatMessageEdited', 'sessionClosedByClient']),
    );
    expect([...names(TWIN_SCENARIOS.presence!.publications())].sort()).toEqual(['clientOffline', 'clientOnline', 'typing']);

    // chatSessionStarted in full (the seed's type), the seed's `action` events as in the seed.
    const all = TWIN_SCENARIOS.all!.publications();
    const started = all.find((p) => p.event === 'chatSessionStarted')!.data as Record<string, unknown>;
    for (const key of ['id', 'chatId', 'clientId', 'name', 'markedAsSpam', 'operatorId', 'operatorType', 'channel', 'botStatus', 'status', 'startedAt', 'clientOnlineAt', 'clientOfflineAt', 'lastMessageCreatedAt', 'lastMessage', 'clientExternalId', 'clientBanned', 'referer', 'clientIp', 'coordinates', 'unreadClientMessageCount', 'unreadClientMessageExists', 'messengerType', 'whatsappPhone', 'timerFirstAnswer', 'timerNextAnswers', 'lastOperatorMessage', 'firstClientMessageAfterLastOperatorMessage', 'operatorAssignedAt', 'previousOperator'])
      expect(started).toHaveProperty(key);
    expect(Object.keys(started.coordinates as object).sort()).toEqual(['city', 'country_code', 'country_name', 'latitude', 'longitude', 'region_name', 'time_zone', 'zip_code']);
    expect(all.find((p) => p.action === 'operatorNotFound')!.data).toEqual({ botStatus: 'HELP', chatId: expect.any(String), operatorType: expect.any(String), sessionId: expect.any(String), status: expect.any(String) });
    expect(all.find((p) => p.action === 'clientOffline')!.data).toEqual({ id: expect.any(String) });
    expect(TWIN_SCENARIOS.all!.publications()).toEqual(all); // deterministic
  });
});

// ─── the wire, without the client ───────────────────────────────────────────────────────────────

interface Raw {
  ws: WebSocket;
  frames: string[];
  closed: Promise<{ code: number; reason: string }>;
}

async function raw(url: string): Promise<Raw> {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(Buffer.isBuffer(d) ? d.toString('utf8') : ''));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  cleanup.push(() => ws.terminate());
  return { ws, frames, closed };
}

const connectCmd = (id: number, token: string) => JSON.stringify({ id, connect: { data: { application: 'notifications', settings: { token } }, name: 'raw' } });

describe('TwinSimulator wire protocol', () => {
  it('answers a batch in one frame, newline-separated, and handles pings, pongs and errors', async () => {
    const { sim, wsUrl } = await startSim({ pingIntervalMs: 100 });
    const r = await raw(wsUrl);
    r.ws.send([connectCmd(1, sim.issueToken()), JSON.stringify({ id: 2, rpc: { method: 'typing', data: { chatId: 'x' } } })].join('\n'));
    await waitFor(() => r.frames.length >= 1, 'batch reply');
    const lines = r.frames[0]!.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ id: 1, connect: { version: '5.x-sim', ping: 0.1, pong: true, subs: { notifications: { recoverable: true, positioned: true, offset: 0 } } } });
    expect(lines[1]).toEqual({ id: 2, rpc: { data: {} } });

    await waitFor(() => r.frames.includes('{}'), 'server ping');
    r.ws.send('{}');
    await waitFor(() => sim.stats.pongs === 1, 'pong counted');

    r.ws.send(
      [
        JSON.stringify({ id: 3, subscribe: { channel: 'notifications' } }),
        JSON.stringify({ id: 4, subscribe: { channel: 'other' } }),
        JSON.stringify({ id: 5, presence: { channel: 'notifications' } }),
        JSON.stringify({ id: 6, whatever: {} }),
        JSON.stringify({ id: 7, publish: { data: {} } }),
      ].join('\n'),
    );
    await waitFor(() => r.frames.some((f) => f.includes('"id":3')), 'error replies');
    const errs = r.frames.find((f) => f.includes('"id":3'))!.split('\n').map((l) => JSON.parse(l) as { id: number; error: { code: number } });
    expect(errs.map((e) => [e.id, e.error.code])).toEqual([
      [3, 105],
      [4, 103],
      [5, 108],
      [6, 104],
      [7, 107],
    ]);
    sim.publish(CH, { event: 'typing', data: {} });
    await waitFor(() => r.frames.some((f) => f.includes('"push"')), 'push');
    expect(JSON.parse(r.frames.find((f) => f.includes('"push"'))!)).toEqual({ push: { channel: CH, pub: { data: { event: 'typing', data: {} }, offset: 1 } } });
  });

  it('closes with 3012 when pings are not answered, 3501 on malformed frames or commands before connect, and 404s other paths', async () => {
    const { sim, wsUrl } = await startSim({ pingIntervalMs: 100 });
    const silent = await raw(wsUrl);
    silent.ws.send(connectCmd(1, sim.issueToken()));
    expect(await silent.closed).toEqual({ code: 3012, reason: 'no pong' });

    const garbage = await raw(wsUrl);
    garbage.ws.send('{nope');
    expect(await garbage.closed).toEqual({ code: 3501, reason: 'bad request' });

    const early = await raw(wsUrl);
    early.ws.send(JSON.stringify({ id: 1, publish: { channel: CH, data: {} } }));
    expect(await early.closed).toEqual({ code: 3501, reason: 'bad request' });

    const twice = await raw(wsUrl);
    twice.ws.send([connectCmd(1, sim.issueToken()), connectCmd(2, sim.issueToken())].join('\n'));
    expect(await twice.closed).toEqual({ code: 3501, reason: 'bad request' });
    expect(twice.frames[0]).toContain('"id":1');

    await expect(raw(wsUrl.replace('/centrifugo/connection/websocket', '/elsewhere'))).rejects.toThrow(/404/);
    expect(sim.stats.received).toEqual([]);
  });
});
