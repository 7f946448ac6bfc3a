/**
 * The 1С-Коннект pipe source against its simulator and the real runtime pieces (SQLite store,
 * group committer, pipeline, connector runtime): subscriptions on connect, events stored, bad
 * frames quarantined without losing the good ones, reconnection and resubscription after the
 * application restarts, commands correlated by ID and timed out; and the relay's XML bodies.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SwitchboardError, ValidationError } from '../../core/index.js';
import { EventBus } from '../../server/bus.js';
import { createMetrics } from '../../server/metrics.js';
import { GroupCommitter, Pipeline } from '../../server/pipeline.js';
import { ConnectorRuntime } from '../../server/runtime.js';
import { SqliteStore } from '../../server/store/sqlite/index.js';
import { defineConnector, type Source, type SourceSignal } from '../types.js';
import { connect1c, connect1cIngest, connect1cSettings, type Connect1cSettings } from './index.js';
import { Connect1cPipeSource, buildCommand, commandSpec, type Connect1cCommandResult } from './pipe.js';
import { DEFAULT_SUBSCRIPTIONS } from './settings.js';
import { CONNECT1C_SCENARIOS, badFrames, scenarioEvents } from './scenarios.js';
import { Connect1cSimulator, type Connect1cSimulatorOptions } from './simulator.js';

const eventId = (xml: string) => /<Event ID="([^"]+)"/.exec(xml)?.[1] ?? '';

describe('1С-Коннект pipe source', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function simulator(opts?: Connect1cSimulatorOptions): Promise<{ sim: Connect1cSimulator; path: string }> {
    const sim = new Connect1cSimulator(opts);
    const path = await sim.start();
    cleanup.push(() => sim.close());
    return { sim, path };
  }

  async function connector(settings: Record<string, unknown>) {
    const store = new SqliteStore({ path: ':memory:' });
    await store.open();
    const metrics = createMetrics({ defaultMetrics: false });
    const committer = new GroupCommitter(store, new EventBus(), metrics, { maxPendingEvents: 10_000, maxBatchEvents: 1000 });
    const pipeline = new Pipeline(committer, metrics);
    const parsed: Connect1cSettings = connect1cSettings.parse(settings);
    const signals: SourceSignal[] = [];
    const sources: Connect1cPipeSource[] = [];
    const makeSource = connect1c.source;
    if (!makeSource) throw new Error('connect1c has no source');
    const runtime = new ConnectorRuntime(
      { id: 'office', definition: defineConnector(connect1c), settings: parsed },
      (cursor, signal): Source => {
        const source = makeSource({
          connectorId: 'office',
          settings: parsed,
          cursor,
          signal: (s) => {
            signals.push(s);
            signal(s);
          },
        });
        if (!(source instanceof Connect1cPipeSource)) throw new Error('expected the pipe source');
        sources.push(source);
        return source;
      },
      { pipeline, committer, store, metrics, logger: pino({ level: 'silent' }), backoff: { initialMs: 20, maxMs: 200, authFailedMs: 1000 } },
    );
    runtime.start();
    cleanup.push(async () => {
      await runtime.stop();
      await store.close();
    });
    const stored = async () => (await store.queryEvents({ connectorId: 'office', limit: 10_000 })).map((e) => ({ type: e.type, json: e.json }));
    /** Event IDs (the `<Event ID>`) found in stored events. */
    const storedIds = async (ids: readonly string[]) => {
      const all = (await stored()).map((e) => e.json).join('\n');
      return ids.filter((id) => all.includes(id));
    };
    const quarantine = async () => store.listQuarantine({ connectorId: 'office', limit: 1000 });
    const opsEvents = async () => (await stored()).filter((e) => e.type.startsWith('connector.')).map((e) => e.type);
    return { runtime, store, signals, sources, stored, storedIds, quarantine, opsEvents };
  }

  it('subscribes to the default combinations on connect, reports connected, and stores every event of every scenario', async () => {
    const { sim, path } = await simulator();
    const c = await connector({ pipe: path });
    await expect.poll(() => sim.stats.subscriptions.length, { timeout: 5000 }).toBe(DEFAULT_SUBSCRIPTIONS.length);
    expect(DEFAULT_SUBSCRIPTIONS).toHaveLength(32);
    expect(new Set(sim.stats.subscriptions.map((s) => `${s.mode}/${s.object}/${s.initiator}`))).toEqual(new Set(DEFAULT_SUBSCRIPTIONS.map((s) => `${s.mode}/${s.object}/${s.initiator}`)));
    expect(new Set(sim.stats.subscriptions.map((s) => s.id)).size).toBe(32);
    expect(sim.stats.commands.every((cmd) => cmd.encoding === 'utf8')).toBe(true);
    await expect.poll(() => c.runtime.status().state, { timeout: 5000 }).toBe('connected');
    expect(c.signals[0]).toEqual({ kind: 'connected', detail: `pipe ${path}; 32 subscriptions sent` });

    const now = Date.UTC(2024, 4, 20, 9, 0, 0);
    const names = ['answered-call', 'missed-call', 'chat-messages', 'remote-session', 'treatment', 'agent-status', 'other-objects'];
    const xmls = names.flatMap((n) => scenarioEvents(n, { now }));
    await sim.play(xmls);
    // One more, cut into pieces that arrive as separate reads.
    const split = scenarioEvents('chat-messages', { now: now + 3_600_000 })[0] as string;
    await sim.sendSplit(split, [1, 2, 3, 5, 100, 7]);
    const ids = [...xmls, split].map(eventId);
    await expect.poll(async () => (await c.storedIds(ids)).length, { timeout: 10_000 }).toBe(ids.length);
    expect(await c.quarantine()).toEqual([]);
    // Every mass event had a subscription; PersonalInfo is not a mass event.
    expect(sim.stats.emitted.filter((e) => !e.subscribed).map((e) => /Object="(\w+)"/.exec(e.xml)?.[1])).toEqual(['PersonalInfo']);
    // Subscription answers are consumed, none refused.
    await expect.poll(() => c.sources[0]?.stats.commandResults, { timeout: 5000 }).toBe(32);
    expect(c.sources[0]?.stats).toMatchObject({ unmatchedResults: 0, refusedSubscriptions: [] });
    expect(await c.opsEvents()).toEqual(['connector.connected']);
  });

  it('sends only the configured subscriptions, framed UTF-16 when asked, and notes the ones the application refuses', async () => {
    const { sim, path } = await simulator({ result: (cmd) => (cmd.object === 'Treatment' ? 'UnknownObject' : 'Success') });
    const subscribe = [
      { mode: 'Softphone', object: 'Call', initiator: 'Incoming' },
      { mode: 'Softphone', object: 'Call', initiator: 'Self' },
      { mode: 'Colleagues', object: 'Treatment', initiator: 'Incoming' },
    ];
    const c = await connector({ pipe: path, subscribe, commandEncoding: 'utf16-framed' });
    await expect.poll(() => sim.stats.subscriptions.length, { timeout: 5000 }).toBe(3);
    expect(sim.stats.subscriptions.map(({ mode, object, initiator }) => ({ mode, object, initiator }))).toEqual(subscribe);
    expect(sim.stats.commands.every((cmd) => cmd.encoding === 'utf16-framed')).toBe(true);
    await expect.poll(() => c.sources[0]?.stats.refusedSubscriptions, { timeout: 5000 }).toEqual([{ subscription: subscribe[2], result: 'UnknownObject' }]);
  });

  it('quarantines bad frames and bad XML with their reasons; the events after them still arrive (done-when 2)', async () => {
    const { sim, path } = await simulator();
    const c = await connector({ pipe: path });
    await expect.poll(() => c.runtime.status().state, { timeout: 5000 }).toBe('connected');
    const frames = CONNECT1C_SCENARIOS['bad-frames']?.frames({ now: Date.UTC(2024, 5, 1, 8, 0, 0) }) ?? [];
    const bad = frames.filter((f) => typeof f !== 'string');
    const good = frames.filter((f): f is string => typeof f === 'string');
    expect(bad.length).toBe(Object.keys(badFrames()).length);
    await sim.play(frames);
    // And a good event split into pieces right after the last bad frame.
    const late = scenarioEvents('agent-status', { now: Date.UTC(2024, 5, 1, 9, 0, 0) })[0] as string;
    await sim.sendSplit(late, [3, 1, 60]);
    const ids = [...good, late].map(eventId);
    await expect.poll(async () => (await c.storedIds(ids)).length, { timeout: 10_000 }).toBe(ids.length);
    await expect.poll(async () => (await c.quarantine()).length, { timeout: 5000 }).toBe(bad.length);
    const q = await c.quarantine();
    expect(q.map((e) => e.reason)).toEqual([
      expect.stringMatching(/^odd length 51 \(skipped \d+ bytes/),
      expect.stringMatching(/^length 12 below 50 /),
      expect.stringMatching(/^header bytes 2-3 not zero /),
      expect.stringMatching(/^invalid UTF-16: lone surrogate at byte \d+$/),
      expect.stringMatching(/^malformed XML at line 1, column \d+/),
      'XML with a DTD (<!DOCTYPE) is refused',
      'XML with a DTD (<!DOCTYPE) is refused',
      'XML with an entity declaration (<!ENTITY) is refused',
      'unexpected <Notification> element; the application sends <Event> and <CommandResult>',
    ]);
    bad.forEach((b, i) => expect(q[i]?.reason).toContain(b.reason));
    expect(q.every((e) => e.code === 'SB_ERR_INGEST_MALFORMED')).toBe(true);
    // Framing errors keep the bytes as hex; XML errors keep the text.
    expect(q[0]?.raw).toMatch(/^hex:3300000/);
    expect(q[6]?.raw).toContain('<!ENTITY b');
    expect(c.runtime.status()).toMatchObject({ state: 'connected' });
  });

  it('reconnects after the application is killed mid-stream and restarted, subscribes again, and stores the next events (done-when 3)', async () => {
    const { sim, path } = await simulator();
    const c = await connector({ pipe: path });
    await expect.poll(() => sim.stats.subscriptions.length, { timeout: 5000 }).toBe(32);
    const before = scenarioEvents('answered-call', { now: Date.UTC(2024, 6, 1, 10, 0, 0) });
    await sim.play(before);
    await expect.poll(async () => (await c.storedIds(before.map(eventId))).length, { timeout: 5000 }).toBe(before.length);

    // Killed in the middle of a frame: the half frame is quarantined as truncated.
    const half = scenarioEvents('missed-call', { now: Date.UTC(2024, 6, 1, 10, 5, 0) })[0] as string;
    const frame = Buffer.from(half, 'utf16le');
    const header = Buffer.alloc(4);
    header.writeUInt16LE(frame.length, 0);
    sim.emitRaw(Buffer.concat([header, frame.subarray(0, 40)]));
    await new Promise((r) => setTimeout(r, 50));
    await sim.kill();
    await expect.poll(() => c.runtime.status().state, { timeout: 5000 }).not.toBe('connected');
    // The application stays away a while: connection attempts fail and back off.
    await expect.poll(() => c.sources.length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    await sim.restart();
    await expect.poll(() => sim.stats.subscriptions.length, { timeout: 5000 }).toBe(64);
    await expect.poll(() => c.runtime.status().state, { timeout: 5000 }).toBe('connected');
    const after = scenarioEvents('treatment', { now: Date.UTC(2024, 6, 1, 10, 10, 0) });
    await sim.play(after);
    await expect.poll(async () => (await c.storedIds(after.map(eventId))).length, { timeout: 5000 }).toBe(after.length);

    const q = await c.quarantine();
    expect(q.map((e) => e.reason)).toEqual([`truncated frame: the stream ended after 44 of ${frame.length + 4} bytes`]);
    await expect.poll(() => c.opsEvents(), { timeout: 5000 }).toEqual(['connector.connected', 'connector.disconnected', 'connector.connected']);
    expect(c.runtime.status()).toMatchObject({ state: 'connected', lastError: expect.stringMatching(/cannot open the 1С-Коннект pipe .*ENOENT|ECONNREFUSED/) });
    expect(sim.stats.connections).toBe(2);
  });

  it('send-message and raw commands are correlated with their CommandResult by ID, even when answers overtake each other', async () => {
    const { sim, path } = await simulator({
      // Later commands are answered sooner.
      delayMs: (cmd) => (cmd.action === 'EventSubscribe' ? 0 : Math.max(0, 200 - Number(/#(\d+)/.exec(cmd.children.MessageBody ?? '')?.[1] ?? 0) * 10)),
      result: (cmd) => (cmd.children.MessageBody?.includes('fail') ? 'Error' : 'Success'),
    });
    const c = await connector({ pipe: path, subscribe: [] });
    await expect.poll(() => c.runtime.status().state, { timeout: 5000 }).toBe('connected');
    const text = 'Счёт №42 <оплачен> & "закрыт" — спасибо! 😊';
    const result = (await c.runtime.command('send-message', { colleagueId: '3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b', text })) as Connect1cCommandResult;
    expect(result).toMatchObject({ action: 'SendMessage', result: 'Success' });
    const sent = sim.stats.commands.at(-1);
    expect(sent).toMatchObject({ action: 'SendMessage', mode: 'Colleagues', id: result.id, children: { ColleagueID: '3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b', MessageBody: text } });
    expect(sent?.xml).toContain('&lt;оплачен&gt; &amp; &quot;закрыт&quot;');

    const many = await Promise.all(
      Array.from({ length: 15 }, (_, i) => c.runtime.command('send-message', { serviceId: 'svc-1', userId: 'user-1', text: `#${i}${i % 5 === 0 ? ' fail' : ''}` }) as Promise<Connect1cCommandResult>),
    );
    many.forEach((r, i) => {
      const cmd = sim.stats.commands.find((x) => x.id === r.id);
      expect(cmd?.children.MessageBody).toBe(`#${i}${i % 5 === 0 ? ' fail' : ''}`);
      expect(cmd).toMatchObject({ mode: 'ServicesClients', children: { ServiceID: 'svc-1', UserID: 'user-1' } });
      expect(r.result).toBe(i % 5 === 0 ? 'Error' : 'Success');
    });

    const raw = (await c.runtime.command('raw', { action: 'SetStatus', mode: 'Colleagues', children: { Status: 'Away' } })) as Connect1cCommandResult;
    expect(raw).toMatchObject({ action: 'SetStatus', result: 'Success' });
    expect(sim.stats.commands.at(-1)?.xml).toBe(`<Command Action="SetStatus" Mode="Colleagues" ID="${raw.id}"><Status>Away</Status></Command>`);
  });

  it('a command times out when the application does not answer; a late answer is ignored', async () => {
    const { sim, path } = await simulator();
    const c = await connector({ pipe: path, subscribe: [], commandTimeoutMs: 300 });
    await expect.poll(() => c.runtime.status().state, { timeout: 5000 }).toBe('connected');
    sim.answerCommands = false;
    const started = Date.now();
    await expect(c.runtime.command('send-message', { colleagueId: 'c-1', text: 'алло?' })).rejects.toThrow(/SendMessage \(ID [0-9a-f-]{36}\) got no CommandResult within 300 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const id = sim.stats.commands.at(-1)?.id ?? '';
    sim.emit(`<CommandResult Action="SendMessage" ID="${id}"><Result>Success</Result></CommandResult>`);
    await expect.poll(() => c.sources[0]?.stats.unmatchedResults, { timeout: 2000 }).toBe(1);
    // The connection is still good.
    sim.answerCommands = true;
    await expect(c.runtime.command('send-message', { colleagueId: 'c-1', text: 'снова' })).resolves.toMatchObject({ result: 'Success' });
  });

  it('pending commands fail at once when the application goes away', async () => {
    const { sim, path } = await simulator();
    const c = await connector({ pipe: path, subscribe: [], commandTimeoutMs: 5000 });
    await expect.poll(() => c.runtime.status().state, { timeout: 5000 }).toBe('connected');
    sim.answerCommands = false;
    const pending = c.runtime.command('send-message', { colleagueId: 'c-1', text: 'x' });
    await expect.poll(() => sim.stats.commands.length, { timeout: 2000 }).toBe(1);
    const started = Date.now();
    await sim.kill();
    await expect(pending).rejects.toThrow(/got no CommandResult: the application closed the pipe/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('checks command arguments and escapes what it writes', () => {
    expect(() => commandSpec('send-message', { text: 'x' })).toThrow(/serviceId/);
    expect(() => commandSpec('send-message', { colleagueId: 'c' })).toThrow(/"text" must be a non-empty string/);
    expect(() => commandSpec('send-message', { mode: 'GroupChats', text: 'x' })).toThrow(/use the raw command for GroupChats/);
    expect(() => commandSpec('dial', {})).toThrow(SwitchboardError);
    expect(() => commandSpec('raw', { action: 'X', mode: 'Y', children: { 'bad name': 'v' } })).toThrow(/not an XML element name/);
    expect(() => commandSpec('raw', { action: 'X', mode: 'Y', children: { Status: 1 } })).toThrow(/children.Status must be a string/);
    expect(() => buildCommand({ action: 'X', mode: 'Y', children: { A: 'bell\u0007' } }, 'id')).toThrow(/cannot carry/);
    expect(buildCommand({ action: 'A"b', mode: 'M', object: 'O', initiator: 'Self' }, 'i<d')).toBe('<Command Action="A&quot;b" Mode="M" ID="i&lt;d" Object="O" Initiator="Self"/>');
  });

  it('a pipe that cannot be opened is a retryable error; without `pipe` there is no source', async () => {
    const missing = connect1c.source?.({ connectorId: 'x', settings: { pipe: '/nonexistent/sb-1c.sock' }, cursor: undefined, signal: () => undefined });
    await expect(missing?.connect(new AbortController().signal)).rejects.toMatchObject({ code: 'SB_ERR_CONNECTOR_RETRYABLE', message: expect.stringMatching(/cannot open the 1С-Коннект pipe \/nonexistent\/sb-1c.sock: ENOENT/) });
    expect(connect1c.source?.({ connectorId: 'x', settings: {}, cursor: undefined, signal: () => undefined })).toBeUndefined();
  });
});

describe('1С-Коннект settings', () => {
  it('validates the time zone with Intl, the subscription names and the limits', () => {
    expect(connect1cSettings.safeParse({ timeZone: 'Asia/Vladivostok' }).success).toBe(true);
    const tz = connect1cSettings.safeParse({ timeZone: 'Moscow/Kremlin' });
    expect(tz.success).toBe(false);
    expect(tz.error?.issues[0]?.message).toBe('an IANA time zone such as Europe/Moscow');
    expect(connect1cSettings.safeParse({ subscribe: [{ mode: 'Colleague', object: 'Call', initiator: 'Incoming' }] }).success).toBe(false);
    expect(connect1cSettings.safeParse({ maxFrameChars: 40_000 }).success).toBe(false);
    expect(connect1cSettings.safeParse({ commandEncoding: 'utf16' }).success).toBe(false);
    expect(connect1cSettings.safeParse({ pipe: 'x', unknown: 1 }).success).toBe(false);
  });
});

describe('1С-Коннект relay ingest', () => {
  const [e1, e2, e3] = scenarioEvents('chat-messages', { now: 0 }) as [string, string, string];

  it('takes one Event, several, or several inside a wrapper', () => {
    expect(connect1cIngest.contentTypes).toEqual(['application/xml', 'text/xml']);
    expect(connect1cIngest.split(e1, 'application/xml')).toEqual([{ payload: e1, raw: e1 }]);
    expect(connect1cIngest.split(`${e1}\n${e2}`, 'text/xml').map((i) => ('payload' in i ? i.payload : i.error))).toEqual([e1, e2]);
    expect(connect1cIngest.split(`<?xml version="1.0" encoding="utf-8"?>\n<Events>${e1}${e2}${e3}</Events>`, 'application/xml')).toHaveLength(3);
    const selfClosing = '<Event ID="s1" Time="2024-01-01T10:00:00" Mode="Colleagues" Object="AgentOnlineStatus" Initiator="Incoming"/>';
    expect(connect1cIngest.split(selfClosing, 'application/xml')).toEqual([{ payload: selfClosing, raw: selfClosing }]);
  });

  it('refuses a body without an Event, or with a DTD or an entity declaration; keeps the good events beside a bad one', () => {
    const refuse = (body: string) => {
      try {
        connect1cIngest.split(body, 'application/xml');
      } catch (err) {
        return err instanceof ValidationError ? `${err.code}: ${err.message}` : String(err);
      }
      return 'accepted';
    };
    expect(refuse('<Events></Events>')).toBe('SB_ERR_INGEST_MALFORMED: no <Event> element');
    expect(refuse('')).toBe('SB_ERR_INGEST_MALFORMED: no <Event> element');
    expect(refuse(`<!DOCTYPE Events [<!ENTITY a "x">]><Events>${e1}</Events>`)).toBe('SB_ERR_INGEST_MALFORMED: XML with a DTD (<!DOCTYPE) is refused');
    expect(refuse(`<Events><!ENTITY a "x">${e1}</Events>`)).toBe('SB_ERR_INGEST_MALFORMED: XML with an entity declaration (<!ENTITY) is refused');
    const broken = '<Event ID="b" Mode="Colleagues" Object="Message" Initiator="Incoming"><MessageBody>x</Body></Event>';
    const items = connect1cIngest.split(`<Events>${e1}${broken}${e2}</Events>`, 'application/xml');
    expect(items.map((i) => ('payload' in i ? 'ok' : i.error))).toEqual(['ok', expect.stringMatching(/^malformed XML at line 1/), 'ok']);
  });

  it('keeps events with self-closing children whole (RemoteAccessSession files)', () => {
    const remote = scenarioEvents('remote-session', { now: 0 });
    const items = connect1cIngest.split(`<Events>${remote.join('\n')}</Events>`, 'application/xml');
    expect(items).toEqual(remote.map((xml) => ({ payload: xml, raw: xml })));
  });
});
