import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { createSwitchboard, type AnyEvent, type EventType, type Switchboard, type SwitchboardEvent } from '../src/index.js';
import { waCall, waMessage } from './helpers/sb.js';


describe('createSwitchboard (library)', () => {
  let sb: Switchboard | undefined;
  let dir = '';
  const make = async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-lib-'));
    sb = createSwitchboard({ store: { sqlite: join(dir, 'sb.db') }, server: { apiToken: 'library-token-123' }, connectors: [{ id: 'wa', platform: 'greenapi' }] }, { logger: pino({ level: 'silent' }), processMetrics: false, env: {} });
    await sb.start({ listen: false });
    return sb;
  };
  afterEach(async () => {
    await sb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingest() commits and counts; on() gets matching events in order, typed by pattern', async () => {
    const s = await make();
    const got: string[] = [];
    const outcomes: string[] = [];
    s.on('call.*', (e) => {
      got.push(e.type);
      if (e.type === 'call.ended') outcomes.push(e.data.outcome); // narrowed by the discriminant
    });
    const messages: string[] = [];
    s.on('message.created', (e) => {
      messages.push(e.data.text ?? '');
    });
    expect(await s.ingest('wa', waCall('C1', 'offer'))).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await s.ingest('wa', [waCall('C1', 'offer'), waMessage('lib-1'), waCall('C1', 'hungUp')])).toMatchObject({ accepted: 2, duplicates: 1 });
    await expect.poll(() => got.length).toBe(2);
    expect(got).toEqual(['call.ringing', 'call.ended']);
    expect(outcomes).toEqual(['rejected']);
    expect(messages).toEqual(['lib-1']);
  });

  it('a failing handler does not stop the others or later events', async () => {
    const s = await make();
    const seen: string[] = [];
    s.on('*', () => {
      throw new Error('boom');
    });
    s.on('*', (e) => {
      seen.push(e.id);
    });
    await s.ingest('wa', [waMessage('a'), waMessage('b')]);
    await expect.poll(() => seen.length).toBe(2);
  });

  it('events() iterates stored events and can follow new ones', async () => {
    const s = await make();
    await s.ingest('wa', [waMessage('x1'), waMessage('x2')]);
    const stored: SwitchboardEvent[] = [];
    for await (const e of s.events({ after: 0, follow: false })) stored.push(e);
    expect(stored.map((e) => e.type)).toEqual(['message.created', 'message.created']);
    expect(Number(stored[1]?.sequence)).toBeGreaterThan(Number(stored[0]?.sequence));

    const abort = new AbortController();
    const live: string[] = [];
    const reader = (async () => {
      for await (const e of s.events({ after: 'now', type: 'call.*', signal: abort.signal })) {
        live.push(e.type);
        if (live.length === 2) abort.abort();
      }
    })();
    await s.ingest('wa', [waMessage('ignored'), waCall('C2', 'offer'), waCall('C2', 'declined')]);
    await reader;
    expect(live).toEqual(['call.ringing', 'call.ended']);
  });

  it('events() yields events discriminated on type, narrowed by the type pattern as on() is', async () => {
    const s = await make();
    await s.ingest('wa', [waCall('C3', 'offer'), waMessage('typed-1'), waCall('C3', 'hungUp')]);
    const all = { follow: false, after: 0 } as const;

    const outcomes: string[] = [];
    for await (const e of s.events(all)) {
      expectTypeOf(e).toEqualTypeOf<AnyEvent>();
      if (e.type === 'call.ended') outcomes.push(e.data.outcome); // narrowed by the discriminant
    }
    expect(outcomes).toEqual(['rejected']);

    const calls: string[] = [];
    for await (const e of s.events({ ...all, type: 'call.*' })) {
      expectTypeOf(e.type).toEqualTypeOf<Extract<EventType, `call.${string}`>>();
      // @ts-expect-error: a call.* pattern yields no message events
      if (e.type === 'message.created') throw new Error('unreachable');
      calls.push(`${e.type} ${e.data.callId}`);
    }
    expect(calls).toEqual(['call.ringing C3', 'call.ended C3']);

    const texts: string[] = [];
    for await (const e of s.events({ ...all, type: 'message.created' })) {
      expectTypeOf(e).toEqualTypeOf<SwitchboardEvent<'message.created'>>();
      texts.push(e.data.text ?? '');
    }
    expect(texts).toEqual(['typed-1']);

    // A list narrows to the union of its parts; a string known only at run time to any event.
    const listed: string[] = [];
    for await (const e of s.events({ ...all, type: 'call.ended, message.created' })) {
      expectTypeOf(e.type).toEqualTypeOf<'call.ended' | 'message.created'>();
      listed.push(e.type === 'call.ended' ? e.data.outcome : e.data.direction);
    }
    expect(listed).toEqual(['inbound', 'rejected']);
    const pattern: string = 'call.ringing';
    for await (const e of s.events({ ...all, type: pattern })) {
      expectTypeOf(e).toEqualTypeOf<AnyEvent>();
      expect(e.type).toBe('call.ringing');
    }
  });

  it('a bulk load left without its catch-up (a killed replay) is caught up by the next start, in the background', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-lib-'));
    const config = { store: { sqlite: join(dir, 'sb.db') }, server: { apiToken: 'library-token-123', port: 0, host: '127.0.0.1' }, connectors: [{ id: 'wa', platform: 'greenapi' as const }] };
    const bulk = createSwitchboard(config, { logger: pino({ level: 'silent' }), processMetrics: false, env: {}, bulk: true });
    await bulk.start({ listen: false, background: false });
    await bulk.ingest('wa', [waCall('B1', 'offer'), waCall('B1', 'hungUp'), waMessage('bulk-1')]);
    await bulk.close(); // no catchUpProjections(): as if killed before it
    sb = createSwitchboard(config, { logger: pino({ level: 'silent' }), processMetrics: false, env: {} });
    await sb.start();
    const calls = async () => {
      const res = await fetch(`${(sb as Switchboard).url}/v1/calls`, { headers: { authorization: 'Bearer library-token-123' } });
      return ((await res.json()) as { calls: { callId: string; outcome?: string }[] }).calls.map((c) => [c.callId, c.outcome]);
    };
    await expect.poll(calls).toEqual([['B1', 'rejected']]);
  });

  it('refuses an unknown connector with a clear error', async () => {
    const s = await make();
    await expect(s.ingest('nope', {})).rejects.toMatchObject({ code: 'SB_ERR_INGEST_UNKNOWN_CONNECTOR', message: expect.stringContaining('configured: wa') });
  });
});
