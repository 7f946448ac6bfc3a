import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { jsonSyntaxMessage, parseJsonWithin, payloadLimitBreach } from './limits.js';

describe('payloadLimitBreach', () => {
  it('measures depth and keys plus elements without recursion', () => {
    expect(payloadLimitBreach('text')).toBeUndefined();
    expect(payloadLimitBreach({ a: [1, { b: {} }] }, { maxDepth: 4, maxKeys: 4 })).toBeUndefined();
    expect(payloadLimitBreach({ a: [1, { b: {} }] }, { maxDepth: 3, maxKeys: 4 })?.message).toBe('nested 4 levels deep; the limit is 3 (server.limits.maxDepth)');
    expect(payloadLimitBreach({ a: [1, { b: {} }] }, { maxDepth: 4, maxKeys: 3 })?.message).toBe('holds 4 keys and array elements; the limit is 3 (server.limits.maxKeys)');
    let deep: unknown = {};
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(payloadLimitBreach(deep)).toEqual({ code: 'SB_ERR_INGEST_LIMIT', message: 'nested 200,001 levels deep; the limit is 64 (server.limits.maxDepth)' });
  });

  it('takes an object shared twice, and refuses one that refers to itself', () => {
    const shared = { x: 1 };
    expect(payloadLimitBreach({ a: shared, b: [shared] })).toBeUndefined();
    const cyclic: Record<string, unknown> = { a: { b: {} } };
    (cyclic.a as Record<string, unknown>).c = cyclic;
    expect(payloadLimitBreach(cyclic)).toEqual({ code: 'SB_ERR_INGEST_INVALID_PAYLOAD', message: 'refers to itself 2 levels deep; a payload must be JSON' });
  });
});

describe('parseJsonWithin', () => {
  it('parses, and refuses JSON over the limits naming where it was', () => {
    expect(parseJsonWithin('{"a":[1]}', 'x')).toEqual({ a: [1] });
    expect(() => parseJsonWithin('{', 'x')).toThrow(SyntaxError);
    const err = (() => {
      try {
        parseJsonWithin(`${'['.repeat(70)}${']'.repeat(70)}`, 'threads SURVEY: at text');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ code: 'SB_ERR_INGEST_LIMIT', message: 'threads SURVEY: at text: nested 70 levels deep; the limit is 64 (server.limits.maxDepth)' });
  });
});

describe('jsonSyntaxMessage', () => {
  const messageOf = (text: string) => {
    try {
      JSON.parse(text);
    } catch (err) {
      return jsonSyntaxMessage(err);
    }
    return 'parsed';
  };

  it('drops the excerpt of the input V8 quotes, at the start and further in, and keeps the rest', () => {
    expect(messageOf('Ivan Petrov 79161234567')).toBe("Unexpected token 'I' (not valid JSON)");
    expect(messageOf('["Ivan Petrov 79161234567", x]')).toBe("Unexpected token 'x' (not valid JSON)");
    expect(messageOf(`[${'"filler", '.repeat(10)}"Ivan Petrov 79161234567", x]`)).toBe("Unexpected token 'x' (not valid JSON)");
    // Messages without an excerpt stay as they are.
    expect(messageOf('{"phone": "79161234567"')).toMatch(/^Expected ',' or '}' after property value in JSON at position \d+/);
    expect(messageOf('{"a": 1} x')).toBe('Unexpected non-whitespace character after JSON at position 9');
  });
});
