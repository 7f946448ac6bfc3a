import { describe, expect, it } from 'vitest';
import { arrayElementTexts, jsonIngest } from './json-ingest.js';

describe('arrayElementTexts', () => {
  it('gives each element of a top-level array exactly as it stands in the text', () => {
    expect(arrayElementTexts('[]')).toEqual([]);
    expect(arrayElementTexts(' [ ] ')).toEqual([]);
    expect(arrayElementTexts('[{"a":1e400} ,\n 2 ,"x,y]" , null]')).toEqual(['{"a":1e400}', '2', '"x,y]"', 'null']);
    expect(arrayElementTexts('[ {"s":"]},[\\"x","t":[1,{"u":"\\\\"}]}, [[]] ]')).toEqual(['{"s":"]},[\\"x","t":[1,{"u":"\\\\"}]}', '[[]]']);
  });

  it('agrees with JSON.parse on every element', () => {
    const text = JSON.stringify([{ a: [1, 2, { b: '"]' }] }, 'c\\', 3.5, true, null, [[], {}], '\u2028']);
    const texts = arrayElementTexts(text);
    expect(texts.map((t) => JSON.parse(t) as unknown)).toEqual(JSON.parse(text));
  });
});

describe('jsonIngest', () => {
  it('keeps the text of every item as received: the body, the array slice, the line', () => {
    expect(jsonIngest.split('{ "a": 1e400 }', 'application/json')).toEqual([{ payload: { a: Infinity }, raw: '{ "a": 1e400 }' }]);
    expect(jsonIngest.split('[ {"a":1} , {"b": 1.50} ]', 'application/json').map((i) => i.raw)).toEqual(['{"a":1}', '{"b": 1.50}']);
    expect(jsonIngest.split('{"a":1}\n{"b": 1.50}\n', 'application/x-ndjson').map((i) => i.raw)).toEqual(['{"a":1}', '{"b": 1.50}']);
  });
});
