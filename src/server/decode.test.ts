import { describe, expect, it } from 'vitest';
import { charsetRefusal, decodeBody, parseContentType } from './decode.js';

const xml = (charset?: string) => parseContentType(charset === undefined ? 'application/xml' : `application/xml; charset=${charset}`);

describe('parseContentType', () => {
  it('gives the media type in lower case and the charset as given, quoted or not', () => {
    expect(parseContentType('Application/JSON; Charset="UTF-8"')).toEqual({ type: 'application/json', charset: 'UTF-8' });
    expect(parseContentType('text/xml;charset=windows-1251;foo=bar')).toEqual({ type: 'text/xml', charset: 'windows-1251' });
    expect(parseContentType(undefined)).toEqual({ type: '', charset: undefined });
  });
});

describe('charsetRefusal', () => {
  it('refuses JSON in any charset but UTF-8 (by any of its labels), and lets XML declare its own', () => {
    expect(charsetRefusal(parseContentType('application/json'))).toBeUndefined();
    expect(charsetRefusal(parseContentType('application/json; charset=utf8'))).toBeUndefined();
    expect(charsetRefusal(parseContentType('application/x-ndjson; charset=utf-16'))).toBe('JSON must be UTF-8 (RFC 8259); the body declares charset "utf-16"');
    expect(charsetRefusal(xml('windows-1251'))).toBeUndefined();
  });
});

describe('decodeBody', () => {
  it('decodes XML by BOM, charset, 16-bit first bytes, declaration, else UTF-8', () => {
    const text = '<E>Привет</E>';
    expect(decodeBody(Buffer.from(`\ufeff${text}`, 'utf16le'), xml())).toEqual({ text });
    expect(decodeBody(Buffer.from(`\ufeff${text}`), xml('windows-1251'))).toEqual({ text });
    expect(decodeBody(Buffer.from(text, 'utf16le'), xml())).toEqual({ text });
    expect(decodeBody(Buffer.from(text, 'utf16le').swap16(), xml())).toEqual({ text });
    const cp1251 = Buffer.from([...'<?xml version="1.0" encoding="windows-1251"?><E>'].map((c) => c.charCodeAt(0)).concat([0xcf, 0xf0, 0xe8]));
    expect(decodeBody(cp1251, xml())).toEqual({ text: '<?xml version="1.0" encoding="windows-1251"?><E>При' });
    expect(decodeBody(Buffer.from(text), xml())).toEqual({ text });
  });

  it('JSON is UTF-8 whatever it looks like, a BOM skipped', () => {
    expect(decodeBody(Buffer.from('\ufeff{"a":"é"}'), parseContentType('application/json'))).toEqual({ text: '{"a":"é"}' });
    expect(decodeBody(Buffer.from('{}', 'utf16le'), parseContentType('application/json'))).toEqual({ text: '{\u0000}\u0000' });
  });

  it('refuses bytes not valid in the charset at the offset where the bad sequence begins', () => {
    const json = parseContentType('application/json');
    expect(decodeBody(Buffer.from([0x7b, 0xff]), json)).toEqual({ error: 'the body is not valid utf-8: invalid bytes at byte offset 1' });
    expect(decodeBody(Buffer.from([0x41, 0xc3, 0xa9, 0xe2, 0x82, 0x41]), json)).toEqual({ error: 'the body is not valid utf-8: invalid bytes at byte offset 3' });
    expect(decodeBody(Buffer.from([0x41, 0xe2, 0x82]), json)).toEqual({ error: 'the body is not valid utf-8: invalid bytes at byte offset 1' });
    expect(decodeBody(Buffer.from([0x3c, 0x00, 0x41, 0x00, 0x00, 0xd8, 0x41, 0x00]), xml())).toEqual({ error: 'the body is not valid utf-16le: invalid bytes at byte offset 4' });
  });

  it('names an unknown charset, from the header or the XML declaration', () => {
    expect(decodeBody(Buffer.from('<E/>'), xml('klingon-8'))).toEqual({ error: 'the body declares charset "klingon-8", which Switchboard cannot decode' });
    expect(decodeBody(Buffer.from('<?xml version="1.0" encoding="x-unknown"?><E/>'), xml())).toEqual({ error: 'the XML declaration names encoding "x-unknown", which Switchboard cannot decode' });
    expect(decodeBody(Buffer.from('<E/>'), xml('iso-2022-kr'))).toEqual({ error: 'the body declares charset "iso-2022-kr", which Switchboard cannot decode' });
  });
});
