/**
 * The 1С-Коннект simulator on its own, with a bare socket as the client: commands in both
 * encodings however they are cut, framed answers, emitted events, kill and restart.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from './framing.js';
import { subscribeCommand } from './pipe.js';
import { CONNECT1C_SCENARIOS, CONNECT1C_SCENARIO_NAMES, localTime, scenarioEvents, scenarioUuid } from './scenarios.js';
import { Connect1cSimulator } from './simulator.js';
import { parseXml } from './xml.js';

interface Client {
  socket: Socket;
  frames: string[];
  reads: number;
}

async function client(path: string): Promise<Client> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const c: Client = { socket, frames: [], reads: 0 };
  const decoder = new FrameDecoder();
  socket.on('data', (chunk: Buffer) => {
    c.reads++;
    for (const f of decoder.push(chunk)) c.frames.push('xml' in f ? f.xml : `ERROR ${f.error}`);
  });
  socket.on('error', () => undefined);
  return c;
}

describe('1С-Коннект simulator', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function sim(opts?: ConstructorParameters<typeof Connect1cSimulator>[0]) {
    const s = new Connect1cSimulator(opts);
    const path = await s.start();
    cleanup.push(() => s.close());
    return { s, path };
  }

  it('reads UTF-8 commands run together or cut anywhere, and framed UTF-16 ones, and answers each with a framed CommandResult', async () => {
    const { s, path } = await sim();
    const c = await client(path);
    cleanup.push(() => void c.socket.destroy());
    const subs = [
      subscribeCommand({ mode: 'Colleagues', object: 'Message', initiator: 'Incoming' }, 'id-1'),
      subscribeCommand({ mode: 'Colleagues', object: 'Message', initiator: 'Self' }, 'id-2'),
    ];
    // Two commands in one write, with a quoted ">" in an attribute and Cyrillic text split mid-character.
    const message = '<Command Action="SendMessage" Mode="Colleagues" ID="id-3" Object="a>b"><ColleagueID>c</ColleagueID><MessageBody>Привет/&gt;</MessageBody></Command>';
    c.socket.write(subs.join(''));
    const bytes = Buffer.from(message, 'utf8');
    const cutAt = bytes.indexOf(Buffer.from('Привет', 'utf8')) + 1;
    c.socket.write(bytes.subarray(0, cutAt));
    await new Promise((r) => setTimeout(r, 20));
    c.socket.write(bytes.subarray(cutAt));
    c.socket.write(encodeFrame('<Command Action="EventSubscribe" Mode="Softphone" Object="Call" Initiator="Self" ID="id-4"/>'));
    await expect.poll(() => c.frames.length, { timeout: 3000 }).toBe(4);
    expect(s.stats.commands.map((x) => [x.id, x.encoding])).toEqual([
      ['id-1', 'utf8'],
      ['id-2', 'utf8'],
      ['id-3', 'utf8'],
      ['id-4', 'utf16-framed'],
    ]);
    expect(s.stats.commands[2]).toMatchObject({ action: 'SendMessage', object: 'a>b', children: { ColleagueID: 'c', MessageBody: 'Привет/>' } });
    expect(s.stats.subscriptions.map((x) => x.id)).toEqual(['id-1', 'id-2', 'id-4']);
    expect(c.frames.map((f) => parseXml(f)).map((r) => [r.name, r.attrs.Action, r.attrs.ID, r.children[0]?.text])).toEqual([
      ['CommandResult', 'EventSubscribe', 'id-1', 'Success'],
      ['CommandResult', 'EventSubscribe', 'id-2', 'Success'],
      ['CommandResult', 'SendMessage', 'id-3', 'Success'],
      ['CommandResult', 'EventSubscribe', 'id-4', 'Success'],
    ]);
    c.socket.write('<Command Action="X" Mode="Y" ID="bad"><Unclosed></Command>');
    await expect.poll(() => s.stats.badInput.length, { timeout: 3000 }).toBe(1);
    expect(s.stats.badInput[0]?.error).toMatch(/malformed XML/);
  });

  it('emits to every client, records whether the event was subscribed, sends bad bytes and split frames as they are', async () => {
    const { s, path } = await sim();
    const a = await client(path);
    const b = await client(path);
    cleanup.push(() => {
      a.socket.destroy();
      b.socket.destroy();
    });
    await expect.poll(() => s.clientCount, { timeout: 3000 }).toBe(2);
    a.socket.write(subscribeCommand({ mode: 'Colleagues', object: 'AgentOnlineStatus', initiator: 'Incoming' }, 'sub-a'));
    await expect.poll(() => a.frames.length, { timeout: 3000 }).toBe(1);
    const [status] = scenarioEvents('agent-status', { now: 0 }) as [string];
    const [message] = scenarioEvents('chat-messages', { now: 0 }) as [string];
    expect(s.emit(status)).toBe(2);
    s.emit(message);
    expect(s.stats.emitted.map((e) => e.subscribed)).toEqual([true, false]);
    await expect.poll(() => b.frames, { timeout: 3000 }).toEqual([status, message]);
    const readsBefore = b.reads;
    await s.sendSplit(message, [1, 1, 2, 50], 20);
    await expect.poll(() => b.frames.length, { timeout: 3000 }).toBe(3);
    expect(b.frames[2]).toBe(message);
    expect(b.reads - readsBefore).toBeGreaterThan(1);
    s.emitRaw(Buffer.from([0x33, 0x00, 0x00, 0x00]));
    s.emit(status);
    await expect.poll(() => b.frames.length, { timeout: 3000 }).toBe(5);
    expect(b.frames[3]).toMatch(/^ERROR odd length 51/);
  });

  it('kill drops every client at once; restart listens on the same path', async () => {
    const { s, path } = await sim();
    const a = await client(path);
    const closed = new Promise<void>((r) => a.socket.once('close', () => r()));
    await expect.poll(() => s.clientCount, { timeout: 3000 }).toBe(1);
    await s.kill();
    await closed;
    await expect(client(path)).rejects.toMatchObject({ code: expect.stringMatching(/ENOENT|ECONNREFUSED/) });
    expect(await s.restart()).toBe(path);
    const b = await client(path);
    cleanup.push(() => void b.socket.destroy());
    await expect.poll(() => s.stats.connections, { timeout: 3000 }).toBe(2);
  });

  it('scenarios are deterministic, carry local time without a zone, and every event is well-formed', () => {
    const now = Date.UTC(2024, 0, 31, 9, 47, 28);
    expect(localTime(now)).toBe('2024-01-31T12:47:28');
    expect(localTime(now, 'Asia/Vladivostok')).toBe('2024-01-31T19:47:28');
    expect(scenarioUuid('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const name of CONNECT1C_SCENARIO_NAMES) {
      const one = CONNECT1C_SCENARIOS[name]?.frames({ now }) ?? [];
      expect(CONNECT1C_SCENARIOS[name]?.frames({ now })).toEqual(one);
      expect(one.length).toBeGreaterThan(0);
    }
    const events = CONNECT1C_SCENARIO_NAMES.filter((n) => n !== 'bad-frames').flatMap((n) => scenarioEvents(n, { now }));
    const ids = new Set<string>();
    for (const xml of events) {
      const root = parseXml(xml);
      expect(root.name).toBe('Event');
      expect(root.attrs.Time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      ids.add(root.attrs.ID ?? '');
    }
    expect(ids.size).toBe(events.length);
    const later = scenarioEvents('answered-call', { now: now + 1 }).map((x) => parseXml(x).attrs.ID);
    expect(later.some((id) => ids.has(id ?? ''))).toBe(false);
  });
});
