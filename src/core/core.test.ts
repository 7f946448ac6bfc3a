import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, compileTypePattern, createEvent, dataJsonSchema, eventId, hashCanonical, ValidationError } from './index.js';

/** The catalogue exactly as DESIGN §2 fixes it. */
const DESIGN_TYPES = [
  'call.ringing', 'call.connecting', 'call.answered', 'call.redirected', 'call.disconnected', 'call.finished', 'call.ended', 'call.closed', 'call.rated', 'call.rating-skipped', 'call.recording-ready',
  'conversation.opened', 'conversation.queued', 'conversation.operator-not-found', 'conversation.assigned', 'conversation.unassigned', 'conversation.handed-to-operator', 'conversation.typing',
  'conversation.close-requested', 'conversation.closed', 'conversation.rated', 'conversation.survey-requested', 'conversation.schedule-changed', 'conversation.scenarios-offered',
  'message.created', 'message.edited', 'message.status-changed',
  'operator.status-changed', 'operator.session-revoked', 'client.presence-changed', 'contact.updated', 'channel.state-changed', 'channel.quota-exceeded',
  'remote-session.started', 'remote-session.ended', 'file.transferred', 'ticket.changed',
  'connector.connected', 'connector.disconnected', 'connector.gap-detected', 'connector.auth-failed',
  'native.unmapped',
];

const base = { platform: 'greenapi' as const, connectorId: 'wa', identity: 'n1', subject: 'call/1', time: 1700000000000, nativetype: 'incomingCall/offer' };

describe('event model', () => {
  it('has exactly the DESIGN catalogue, each with a JSON Schema for its data', () => {
    expect([...EVENT_TYPES].sort()).toEqual([...DESIGN_TYPES].sort());
    for (const t of EVENT_TYPES) {
      const schema = dataJsonSchema(t);
      expect(schema.type).toBe('object');
      expect(schema.properties).toHaveProperty('native');
    }
  });

  it('derives ids deterministically from source, identity, type and ordinal', () => {
    const a = eventId('switchboard/greenapi/wa', 'x', 'call.ringing', 0);
    expect(a).toBe(eventId('switchboard/greenapi/wa', 'x', 'call.ringing', 0));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set([a, eventId('switchboard/greenapi/wb', 'x', 'call.ringing', 0), eventId('switchboard/greenapi/wa', 'y', 'call.ringing', 0), eventId('switchboard/greenapi/wa', 'x', 'call.ended', 0), eventId('switchboard/greenapi/wa', 'x', 'call.ringing', 1)]).size).toBe(5);
    expect(hashCanonical({ a: 1, b: [2, { c: 3, d: 4 }] })).toBe(hashCanonical({ b: [2, { d: 4, c: 3 }], a: 1 }));
  });

  it('builds a CloudEvents 1.0 event, frozen, with the time in UTC', () => {
    const e = createEvent({ ...base, type: 'call.ringing', data: { callId: '1', native: { x: 1 } } });
    expect(e).toMatchObject({ specversion: '1.0', source: 'switchboard/greenapi/wa', type: 'call.ringing', subject: 'call/1', time: '2023-11-14T22:13:20.000Z', datacontenttype: 'application/json', dataschema: 'urn:switchboard:schema:v1:call.ringing', platform: 'greenapi', nativetype: 'incomingCall/offer' });
    expect(Object.isFrozen(e)).toBe(true);
    expect(Object.isFrozen(e.data)).toBe(true);
  });

  it('validates at construction and names the field', () => {
    const bad = () => createEvent({ ...base, type: 'call.ended', data: { callId: '1', outcome: 'maybe', reason: 'x', native: null } as never });
    expect(bad).toThrow(ValidationError);
    expect(bad).toThrow(/at outcome: expected one of "answered", "missed", "rejected", "failed", found string "maybe"/);
    expect(() => createEvent({ ...base, type: 'call.ringing', data: { callId: '1', extra: true, native: null } as never })).toThrow(/extra/);
    expect(() => createEvent({ ...base, subject: 'nonsense', type: 'call.ringing', data: { callId: '1', native: null } })).toThrow(/subject/);
    expect(() => createEvent({ ...base, time: 'not a date', type: 'call.ringing', data: { callId: '1', native: null } })).toThrow(/expected a date/);
  });
});

describe('type patterns', () => {
  it('matches exact names, prefixes with *, lists and everything', () => {
    const m = compileTypePattern('call.*,message.created');
    expect(m('call.ended')).toBe(true);
    expect(m('message.created')).toBe(true);
    expect(m('message.edited')).toBe(false);
    expect(m('callx.ended')).toBe(false);
    expect(compileTypePattern('*')('anything')).toBe(true);
  });
});

describe('the core stays pure', () => {
  const allowed = new Set(['zod/mini', 'canonicalize', 'vitest']);
  function files(dir: string): string[] {
    return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.ts') && !f.endsWith('.test.ts') ? [join(dir, f)] : []));
  }
  it('imports no Node built-ins and no package beyond its isomorphic dependencies', () => {
    const dir = new URL('.', import.meta.url).pathname;
    for (const file of files(dir)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        const spec = m[1] ?? '';
        if (spec.startsWith('.')) continue;
        expect(allowed.has(spec), `${file} imports ${spec}`).toBe(true);
      }
      expect(text).not.toMatch(/\bprocess\.|\bBuffer\b|require\(/);
    }
  });
});
