/**
 * The kit's time parser: one reading of event times for every platform (issue 20).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoOf, parseDateTime, parseTime } from './kit.js';

describe('parseTime', () => {
  it('reads ISO 8601 with a zone in every written form, with T or a space', () => {
    for (const text of [
      '2024-05-01T12:00:00+03:00',
      '2024-05-01T12:00:00+0300',
      '2024-05-01T12:00:00+03',
      '2024-05-01 12:00:00+03:00',
      '2024-05-01T09:00:00Z',
      '2024-05-01t09:00:00z',
      '2024-05-01T09:00Z',
      '2024-05-01T06:30:00-02:30',
    ]) {
      expect(parseTime(text), text).toBe('2024-05-01T09:00:00.000Z');
    }
    expect(parseTime('2024-05-01T09:00:00.1234567Z')).toBe('2024-05-01T09:00:00.123Z');
    expect(parseTime('2024-05-01T09:00:00,5Z')).toBe('2024-05-01T09:00:00.500Z');
  });

  it('reads Unix seconds below 10^12 and milliseconds above, as numbers or numeric strings', () => {
    expect(parseTime(1714554000)).toBe('2024-05-01T09:00:00.000Z');
    expect(parseTime(1714554000123)).toBe('2024-05-01T09:00:00.123Z');
    expect(parseTime('1714554000')).toBe('2024-05-01T09:00:00.000Z');
    expect(parseTime(' 1714554000123 ')).toBe('2024-05-01T09:00:00.123Z');
  });

  it('takes nothing else: no zone, impossible dates, other notations, non-positive or out-of-range numbers', () => {
    for (const v of [
      '2024-05-01T09:00:00',
      '2024-05-01',
      '01.05.2024 09:00',
      '2019-02-30T10:00:00Z',
      '2019-02-29T10:00:00Z',
      '2019-01-31T24:00:00Z',
      '2019-01-31T12:60:00Z',
      '2019-01-31T12:00:60Z',
      '2019-01-31T12:00:00+24:00',
      '2019-01-31T12:00:00+03:60',
      '0019-01-31T12:00:00Z',
      'yesterday',
      '',
      0,
      -5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      1e20,
      '-1',
      null,
      undefined,
      true,
      {},
      [],
    ]) {
      expect(parseTime(v), JSON.stringify(v)).toBeUndefined();
    }
    expect(parseTime('2024-02-29T10:00:00Z')).toBe('2024-02-29T10:00:00.000Z');
  });

  it('gives back every instant written as ISO 8601 with any offset', () => {
    const min = Date.UTC(1900, 0, 2);
    const max = Date.UTC(9999, 11, 30);
    fc.assert(
      fc.property(fc.integer({ min, max }), fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), (ms, offsetMin) => {
        const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 23);
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        expect(parseTime(`${local}${zone}`)).toBe(new Date(ms).toISOString());
      }),
      { seed: 20, numRuns: 500 },
    );
  });
});

describe('parseDateTime', () => {
  it('keeps a zone-less time as its wall clock and names the offset only when written', () => {
    expect(parseDateTime('2019-01-31T12:47:28')).toEqual({ wallMs: Date.UTC(2019, 0, 31, 12, 47, 28), offsetMs: undefined });
    expect(parseDateTime(' 2019-01-31 12:47 ')).toEqual({ wallMs: Date.UTC(2019, 0, 31, 12, 47), offsetMs: undefined });
    expect(parseDateTime('2019-01-31T12:47:28-0530')).toEqual({ wallMs: Date.UTC(2019, 0, 31, 12, 47, 28), offsetMs: -(5 * 60 + 30) * 60_000 });
    expect(parseDateTime('31.01.2019 12:47')).toBeUndefined();
  });

  it('isoOf refuses instants outside what ISO 8601 prints', () => {
    expect(isoOf(Date.UTC(9999, 11, 31, 23, 59, 59, 999))).toBe('9999-12-31T23:59:59.999Z');
    expect(isoOf(Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 1)).toBeUndefined();
    expect(isoOf(Number.NaN)).toBeUndefined();
  });
});
