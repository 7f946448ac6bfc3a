/**
 * The defects the fuzz suite (test/fuzz/*.test.ts) found, each pinned by its minimal case, so
 * that they stay fixed whatever seed the fuzz suite runs with.
 */
import { describe, expect, it } from 'vitest';
import { connectorFor } from '../../src/connectors/registry.js';
import { MAX_PAYLOAD_DEPTH, SwitchboardError, describeValue, nestedDeeperThan, type NormalizeContext, type Platform, type SwitchboardEvent } from '../../src/core/index.js';

const CTX: NormalizeContext = { connectorId: 'fuzz', receivedAt: '2026-01-01T00:00:00.000Z' };

/** `1` inside `depth` arrays, built in a loop. */
function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

function normalize(platform: Platform, payload: unknown): SwitchboardEvent[] {
  const def = connectorFor(platform);
  if (!def) throw new Error(`no connector for ${platform}`);
  return def.normalize(payload, CTX);
}

/** `<code>: <message>` of the refusal, or the event types when the payload was taken. */
function outcome(platform: Platform, payload: unknown): string {
  try {
    return normalize(platform, payload)
      .map((e) => `${e.type} ${e.subject}`)
      .join('; ');
  } catch (err) {
    return err instanceof SwitchboardError ? `${err.code}: ${err.message}` : `not a SwitchboardError: ${String(err)}`;
  }
}

describe('fuzz findings: values JSON does not have', () => {
  it('describeValue names a bigint, a symbol and a function instead of throwing (JSON.stringify throws on a bigint)', () => {
    expect(describeValue(10n)).toBe('a bigint');
    expect(describeValue(Symbol('s'))).toBe('a symbol');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue('x'.repeat(100))).toBe(`string "${'x'.repeat(36)}...`);
  });

  it.each([
    ['widget', 10n, 'widget: expected a message object, found a bigint'],
    ['threads', Symbol('s'), 'threads: expected a push object, found a symbol'],
    ['connect1c', 0n, 'connect1c: expected an XML string holding one <Event>, found a bigint'],
  ] as const)('%s refuses %s with SB_ERR_INGEST_INVALID_PAYLOAD', (platform, payload, message) => {
    expect(outcome(platform, payload)).toBe(`SB_ERR_INGEST_INVALID_PAYLOAD: ${message}`);
  });
});

describe('fuzz findings: payloads nested thousands of levels deep', () => {
  it('nestedDeeperThan measures any depth without recursion, stops past the limit, and takes a cycle as too deep', () => {
    expect(nestedDeeperThan(nest(MAX_PAYLOAD_DEPTH), MAX_PAYLOAD_DEPTH)).toBe(false);
    expect(nestedDeeperThan(nest(MAX_PAYLOAD_DEPTH + 1), MAX_PAYLOAD_DEPTH)).toBe(true);
    expect(nestedDeeperThan(nest(200_000), MAX_PAYLOAD_DEPTH)).toBe(true);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(nestedDeeperThan(cycle, MAX_PAYLOAD_DEPTH)).toBe(true);
    expect(nestedDeeperThan('[[[[', 1)).toBe(false);
  });

  // Each used to overflow the stack (hashing or writing the event) or build an event no store could write.
  it.each([
    ['widget', { code: 'RINGING', callId: 'c', data: { x: nest(20_000) } }, 'widget: the message'],
    ['threads', { origin: 'threads', type: 'MESSAGE', threadId: 1, attachments: nest(20_000) }, 'threads: the push'],
    ['twin', { channel: 'ch', data: { event: 'typing', data: { chatId: 'c', x: nest(20_000) } } }, 'twin: the publication'],
    ['greenapi', { typeWebhook: 'somethingNew', body: nest(20_000) }, 'greenapi: the notification'],
  ] as const)('%s refuses a payload nested 20,000 deep, naming the limit', (platform, payload, what) => {
    expect(outcome(platform, payload)).toBe(`SB_ERR_INGEST_INVALID_PAYLOAD: ${what}: nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  });

  it('takes a payload nested exactly to the limit', () => {
    expect(outcome('widget', { code: 'RINGING', callId: 'c', data: { x: nest(MAX_PAYLOAD_DEPTH - 3) } })).toBe('call.ringing call/c');
  });

  it('threads refuses SURVEY text holding JSON nested past the limit', () => {
    const text = JSON.stringify(nest(MAX_PAYLOAD_DEPTH + 1));
    expect(outcome('threads', { origin: 'threads', type: 'SURVEY', threadId: 1, uuid: 'u', text })).toBe(
      `SB_ERR_INGEST_INVALID_PAYLOAD: threads SURVEY: at text: the JSON: nested deeper than ${MAX_PAYLOAD_DEPTH} levels`,
    );
  });
});

describe('fuzz findings: identity and subjects from hostile values', () => {
  // canonicalize threw a plain Error for a lone surrogate where the identity is a hash.
  it.each([
    ['twin', { channel: 'ch', data: { event: 'typing', data: { chatId: 'c', note: '\ud800' } } }, 'twin: the publication'],
    ['greenapi', { typeWebhook: 'somethingNew', note: '\ud800' }, 'greenapi: the payload'],
    ['greenapi', { typeWebhook: 'outgoingCall', from: '7900@c.us', status: 'hungUp', timestamp: 1, note: '\udc00' }, 'greenapi outgoingCall'],
  ] as const)('%s refuses a payload identified by its hash that holds a lone surrogate', (platform, payload, what) => {
    expect(outcome(platform, payload)).toBe(`SB_ERR_INGEST_INVALID_PAYLOAD: ${what} cannot be identified: Lone surrogate is not allowed`);
  });

  // These built an event whose subject failed validation: SB_ERR_EVENT_INVALID, "a bug in Switchboard".
  it.each([
    ['greenapi', { typeWebhook: 'new\nType' }, 'string "new\\nType"'],
    ['greenapi', { typeWebhook: 'incomingCall', from: '7900@c.us', status: 'offer', idMessage: '', timestamp: 1 }, 'string ""'],
    ['twin', { channel: 'ch', offset: 1, data: { event: 'typing', data: { chatId: 'a\rb' } } }, 'string "a\\rb"'],
    ['connect1c', '<Event ID="e" Mode="ServicesClients" Object="Treatment"><ServiceID>s&#10;1</ServiceID><UserID>u</UserID><State>Finished</State></Event>', 'string "s\\n1:u"'],
    ['connect1c', '<Event ID="e" Object="New&#10;Thing"/>', 'string "New\\nThing"'],
  ] as const)('%s refuses an id or type that would key a subject but is empty or spans lines', (platform, payload, found) => {
    expect(outcome(platform, payload)).toBe(`SB_ERR_INGEST_INVALID_PAYLOAD: ${platform}: the subject key is empty or not one line: ${found}`);
  });

  it('greenapi reads a status named like an Object.prototype property as a word, not as the property', () => {
    const state = normalize('greenapi', { typeWebhook: 'stateInstanceChanged', instanceData: { idInstance: 1 }, timestamp: 1, stateInstance: 'constructor' });
    expect(state.map((e) => [e.type, e.data])).toEqual([['channel.state-changed', expect.objectContaining({ state: 'constructor', nativeState: 'constructor' })]]);
    expect(outcome('greenapi', { typeWebhook: 'incomingCall', from: '7900@c.us', status: 'toString', idMessage: 'm', timestamp: 1 })).toBe('native.unmapped native/incomingCall/toString');
    expect(outcome('greenapi', { typeWebhook: 'outgoingCall', from: '7900@c.us', status: 'valueOf', idMessage: 'm', timestamp: 1 })).toBe('native.unmapped native/outgoingCall/valueOf');
  });
});

describe('fuzz findings: reasons that quoted the payload whole', () => {
  it.each([
    ['widget', { ['k'.repeat(5_000)]: 1 }],
    ['widget', { code: 'X'.repeat(5_000), callId: 'c', data: 'd' }],
    ['connect1c', `<Event ID="e" Time="soon" Object="Call"><State>${'x'.repeat(5_000)}</State></Event>`],
  ] as const)('%s quotes at most a few dozen characters of a name from the payload', (platform, payload) => {
    const reason = outcome(platform, payload);
    expect(reason).toMatch(/^SB_ERR_INGEST_INVALID_PAYLOAD: /);
    expect(reason.length).toBeLessThan(250);
  });
});
