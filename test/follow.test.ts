/**
 * Live fan-out from memory: followers read recent commits from the bus's bounded window (the same
 * stored objects for all of them) and page from the store only when they fell behind it — with
 * no gap and no repeat either way; a subscriber that never reads slows no one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../src/server/metrics.js';
import { EventBus } from '../src/server/bus.js';
import { follow, followPages } from '../src/server/follow.js';
import { GroupCommitter } from '../src/server/pipeline.js';
import { SqliteStore } from '../src/server/store/sqlite/index.js';
import type { StoredEvent } from '../src/server/store/types.js';
import { apiHeaders, ingestHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';
import { collector } from '../src/core/index.js';

function events(from: number, n: number) {
  return Array.from({ length: n }, (_, i) => {
    const out = collector('greenapi', { connectorId: 'wa', receivedAt: '2026-01-01T00:00:00.000Z' }, { i: from + i }, `follow|${from + i}`, 'test');
    out.emit('channel.state-changed', `channel/${(from + i) % 3}`, { channelId: String((from + i) % 3), state: 'authorized' }, 1_700_000_000_000 + from + i);
    return out.events;
  }).flat();
}

describe('the bus window', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function setup(window: { windowEvents?: number; windowBytes?: number; wakeIntervalMs?: number }) {
    const dir = mkdtempSync(join(tmpdir(), 'sb-follow-'));
    dirs.push(dir);
    const store = new SqliteStore({ path: join(dir, 'sb.db'), durability: 'normal' });
    await store.open();
    const bus = new EventBus(window);
    bus.reset(await store.latestSequence());
    const committer = new GroupCommitter(store, bus, createMetrics({ defaultMetrics: false }), { maxPendingEvents: 100_000, maxBatchEvents: 1000 });
    const commit = async (from: number, n: number) => {
      await committer.submit({ connectorId: 'wa', receivedAt: '2026-01-01T00:00:00.000Z', events: events(from, n), quarantine: [] });
    };
    return { store, bus, commit };
  }

  it('keeps at most its limits in events and bytes for a follower that does not read, and answers below its floor with undefined', async () => {
    const { store, bus, commit } = await setup({ windowEvents: 50 });
    const idle = bus.track(0);
    await commit(0, 120);
    expect(bus.windowSize.events).toBe(50);
    expect(bus.readAfter(0, 10)).toBeUndefined();
    expect(bus.readAfter(70, 10)?.map((c) => c.stored.seq)).toEqual([71, 72, 73, 74, 75, 76, 77, 78, 79, 80]);
    expect(bus.readAfter(120, 10)).toEqual([]);
    idle.release();
    await store.close();
    const small = await setup({ windowBytes: 3000 });
    small.bus.track(0);
    await small.commit(0, 40);
    expect(small.bus.windowSize.bytes).toBeLessThanOrEqual(3000);
    expect(small.bus.windowSize.events).toBeGreaterThan(0);
    await small.store.close();
  });

  it('holds only what some follower has yet to read: nothing without followers, and events leave once every follower passed them', async () => {
    const { store, bus, commit } = await setup({ windowEvents: 1000 });
    await commit(0, 30);
    expect(bus.windowSize.events).toBe(0);
    expect(bus.readAfter(30, 10)).toEqual([]);
    expect(bus.readAfter(10, 10)).toBeUndefined();
    const a = bus.track(30);
    const b = bus.track(30);
    await commit(30, 20);
    expect(bus.windowSize.events).toBe(20);
    a.mark.position = 50;
    b.mark.position = 40;
    await commit(50, 5);
    // b has not read 41..50: kept; 31..40 are read by both: gone.
    expect(bus.readAfter(40, 100)?.map((c) => c.stored.seq)).toEqual([41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55]);
    expect(bus.readAfter(39, 100)).toBeUndefined();
    b.release();
    a.mark.position = 55;
    await commit(55, 1);
    expect(bus.windowSize.events).toBe(1);
    a.release();
    await store.close();
  });

  it('a follower far behind pages from the store, then reads the window: every matching event once, in order', async () => {
    const { store, bus, commit } = await setup({ windowEvents: 30 });
    await commit(0, 200);
    const abort = new AbortController();
    const seen: StoredEvent[] = [];
    const done = (async () => {
      for await (const e of follow(store, bus, { subject: 'channel/1' }, 0, { signal: abort.signal, pageSize: 16 })) {
        seen.push(e);
        if (seen.length === 67 + 33) abort.abort();
      }
    })();
    // More commits while it catches up, some in the window only.
    for (let k = 0; k < 10; k++) await commit(200 + k * 10, 10);
    await done;
    const expected = Array.from({ length: 300 }, (_, i) => i + 1).filter((seq) => (seq - 1) % 3 === 1);
    expect(seen.map((e) => e.seq)).toEqual(expected.slice(0, 100));
    await store.close();
  });

  it('live followers get the very stored objects of the window, not copies read per subscriber', async () => {
    const { store, bus, commit } = await setup({});
    const a: StoredEvent[] = [];
    const b: StoredEvent[] = [];
    const abort = new AbortController();
    const run = async (out: StoredEvent[]) => {
      for await (const e of follow(store, bus, {}, bus.latestSequence, { signal: abort.signal })) {
        out.push(e);
        if (out.length === 25) return;
      }
    };
    const both = Promise.all([run(a), run(b)]);
    await commit(0, 25);
    await both;
    expect(a.map((e) => e.seq)).toEqual(b.map((e) => e.seq));
    a.forEach((e, i) => expect(e).toBe(b[i]));
    await store.close();
  });

  it('wakes waiting followers at most once per wake interval: commits that come faster arrive together as one page', async () => {
    // A long interval, so that the three commits below fall in one even on a loaded machine.
    const { store, bus, commit } = await setup({ wakeIntervalMs: 2000 });
    const pages: number[][] = [];
    const abort = new AbortController();
    const reader = (async () => {
      for await (const page of followPages(store, bus, {}, bus.latestSequence, { signal: abort.signal })) {
        pages.push(page.map((e) => e.seq));
        if (pages.flat().length === 4) return;
      }
    })();
    // The first commit after a quiet spell wakes the follower at once …
    await commit(0, 1);
    await expect.poll(() => pages, { timeout: 1500, interval: 5 }).toEqual([[1]]);
    // … the next three, within the interval, reach it together once the interval has passed.
    await commit(1, 1);
    await commit(2, 1);
    await commit(3, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(pages).toEqual([[1]]);
    await reader;
    expect(pages).toEqual([[1], [2, 3, 4]]);
    await store.close();
  });
});

describe('a subscriber that never reads', () => {
  let t: TestServer | undefined;
  afterEach(async () => t?.close());

  it('does not slow ingest or another subscriber, and costs the server only its socket', async () => {
    // A reader that keeps the server waiting for 'drain' again and again must leave no listeners behind.
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.name);
    process.on('warning', onWarning);
    t = await startTestServer();
    const url = new URL(t.url);
    // Asks for the stream, then never reads a byte.
    const silent = connect(Number(url.port), url.hostname);
    silent.pause();
    await new Promise<void>((r) => silent.once('connect', () => r()));
    silent.write(`GET /v1/stream HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: ${apiHeaders.authorization}\r\n\r\n`);
    const reader = await fetch(`${t.url}/v1/stream`, { headers: apiHeaders });
    const body = reader.body?.getReader();
    if (!body) throw new Error('no body');
    const total = 3000;
    const big = 'x'.repeat(1500);
    let received = 0;
    const decoder = new TextDecoder();
    const reading = (async () => {
      let text = '';
      while (received < total) {
        const { value, done } = await body.read();
        if (done) break;
        await new Promise((r) => setTimeout(r, 2));
        text += decoder.decode(value, { stream: true });
        const frames = text.split('\n\n');
        text = frames.pop() ?? '';
        received += frames.filter((f) => f.includes('\ndata: ')).length;
      }
    })();
    // ~5 MB of events: far more than the silent socket's buffers.
    for (let i = 0; i < total; i += 100) {
      const batch = Array.from({ length: 100 }, (_, k) => waMessage(`${big} ${i + k}`, `SILENT-${i + k}`));
      const res = await fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(batch) });
      expect(res.status).toBe(200);
    }
    await reading;
    expect(received).toBe(total);
    await body.cancel();
    silent.destroy();
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
