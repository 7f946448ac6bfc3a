/**
 * Encodings of ingest bodies. XML is decoded in the charset it declares — the Content-Type
 * `charset`, else a byte order mark, else `<?xml … encoding="…"?>`, else UTF-8 — as the
 * 1С-Коннект relays send it (UTF-16LE with or without BOM, UTF-8, windows-1251). JSON must be
 * UTF-8 (RFC 8259). Bytes that do not decode are refused with 400 naming the charset and the
 * byte offset, and kept in the quarantine as they came (base64).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_TOKEN, apiHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';

/** windows-1251 bytes of a text of ASCII and Russian letters. */
function cp1251(text: string): Buffer {
  return Buffer.from(
    [...text].map((ch) => {
      const c = ch.codePointAt(0) ?? 0;
      if (c < 0x80) return c;
      if (c >= 0x410 && c <= 0x44f) return c - 0x410 + 0xc0;
      if (c === 0x401) return 0xa8;
      if (c === 0x451) return 0xb8;
      throw new Error(`not in the test's windows-1251 table: ${ch}`);
    }),
  );
}

let n = 0;
/** A 1С-Коннект chat message event with a fresh id. */
function event(text: string, declaration = ''): string {
  n++;
  const id = `4c5d6e7f-8091-4a2b-bc3d-${String(n).padStart(12, '0')}`;
  return (
    `${declaration}<Event ID="${id}" Time="2025-03-14T09:10:12" Mode="ServicesClients" Object="Message" Initiator="Incoming">` +
    '<ClientID>6dd05738-1464-11e3-93b5-7054d21ab6ff</ClientID><UserID>227e9d68-01d8-4006-ad42-d034dcb67818</UserID>' +
    `<ServiceID>114c7433-4c28-11e7-80e5-0025904f970f</ServiceID><MessageID>${id}</MessageID>` +
    `<AuthorID>227e9d68-01d8-4006-ad42-d034dcb67818</AuthorID><MessageBody>${text}</MessageBody></Event>`
  );
}

interface ErrorBody {
  error: { code: string; message: string; quarantineId?: string };
}
interface QuarantineItem {
  id: string;
  code: string;
  reason: string;
  raw: string;
  rawEncoding?: string;
}

describe('body encodings', () => {
  let t: TestServer;
  const post = (connector: string, body: Uint8Array | string, contentType: string) =>
    fetch(`${t.url}/ingest/${connector}`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': contentType }, body });
  const texts = async () =>
    ((await (await fetch(`${t.url}/v1/events?connector=office&type=message.created&limit=1000`, { headers: apiHeaders })).json()) as { events: { data: { text?: string } }[] }).events.map((e) => e.data.text);
  const kept = async (id: string | undefined) => {
    const q = (await (await fetch(`${t.url}/v1/quarantine?limit=1000`, { headers: apiHeaders })).json()) as { items: QuarantineItem[] };
    return q.items.find((i) => i.id === id);
  };

  beforeAll(async () => {
    t = await startTestServer({
      connectors: [
        { id: 'office', platform: 'connect1c', ingestToken: INGEST_TOKEN },
        { id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN },
      ] as never,
    });
  });
  afterAll(async () => t.close());

  it('decodes XML in the charset of the Content-Type: windows-1251, UTF-16LE, UTF-8', async () => {
    const cases: [string, Buffer, string][] = [
      ['Привет из 1251', cp1251(event('Привет из 1251')), 'application/xml; charset=windows-1251'],
      ['Привет из cp1251', cp1251(event('Привет из cp1251')), 'text/xml; charset="CP1251"'],
      ['Привет из UTF-16LE', Buffer.from(event('Привет из UTF-16LE'), 'utf16le'), 'application/xml; charset=utf-16le'],
      ['Привет из UTF-8', Buffer.from(event('Привет из UTF-8')), 'application/xml; charset=utf-8'],
    ];
    for (const [, body, type] of cases) expect((await post('office', body, type)).status).toBe(200);
    expect(await texts()).toEqual(expect.arrayContaining(cases.map(([text]) => text)));
  });

  it('without a charset: a byte order mark, else the XML declaration, else UTF-8', async () => {
    const bom = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(event('С BOM UTF-16LE'), 'utf16le')]);
    const noBom = Buffer.from(event('Без BOM UTF-16LE', '<?xml version="1.0" encoding="UTF-16"?>'), 'utf16le');
    const declared = cp1251(event('Объявлено в XML', '<?xml version="1.0" encoding="windows-1251"?>\n'));
    const plain = Buffer.from(event('Просто UTF-8'));
    for (const body of [bom, noBom, declared, plain]) expect((await post('office', body, 'application/xml')).status).toBe(200);
    expect(await texts()).toEqual(expect.arrayContaining(['С BOM UTF-16LE', 'Без BOM UTF-16LE', 'Объявлено в XML', 'Просто UTF-8']));
  });

  it('refuses bytes that are not valid in the charset with 400 naming it and the byte offset, keeping the bytes', async () => {
    const good = Buffer.from(event('ok'));
    const at = good.indexOf('ok');
    const bad = Buffer.concat([good.subarray(0, at), Buffer.from([0xc3, 0x28]), good.subarray(at)]);
    const res = await post('office', bad, 'application/xml');
    expect(res.status).toBe(400);
    const e = (await res.json()) as ErrorBody;
    expect(e.error.code).toBe('SB_ERR_INGEST_MALFORMED');
    expect(e.error.message).toBe(`the body is not valid utf-8: invalid bytes at byte offset ${at}`);
    const item = await kept(e.error.quarantineId);
    expect(item?.rawEncoding).toBe('base64');
    expect(Buffer.from(item?.raw ?? '', 'base64').equals(bad)).toBe(true);
  });

  it('refuses an unknown charset with 400 naming it, keeping the bytes', async () => {
    const body = Buffer.from(event('x'));
    const res = await post('office', body, 'application/xml; charset=klingon-8');
    expect(res.status).toBe(400);
    const e = (await res.json()) as ErrorBody;
    expect(e.error.message).toBe('the body declares charset "klingon-8", which Switchboard cannot decode');
    const item = await kept(e.error.quarantineId);
    expect(Buffer.from(item?.raw ?? '', 'base64').equals(body)).toBe(true);
  });

  it('JSON: invalid UTF-8 is refused with the offset and kept as bytes; another charset is 415', async () => {
    const json = Buffer.from(JSON.stringify(waMessage('abc')));
    const at = json.indexOf('abc');
    json[at] = 0xff;
    const res = await post('wa', json, 'application/json');
    expect(res.status).toBe(400);
    const e = (await res.json()) as ErrorBody;
    expect(e.error.message).toBe(`the body is not valid utf-8: invalid bytes at byte offset ${at}`);
    const item = await kept(e.error.quarantineId);
    expect(item?.rawEncoding).toBe('base64');
    expect(Buffer.from(item?.raw ?? '', 'base64').equals(json)).toBe(true);

    const other = await post('wa', cp1251(JSON.stringify(waMessage('Привет'))), 'application/json; charset=windows-1251');
    expect(other.status).toBe(415);
    const e415 = (await other.json()) as ErrorBody;
    expect(e415.error.code).toBe('SB_ERR_INGEST_CONTENT_TYPE');
    expect(e415.error.message).toContain('JSON must be UTF-8');
    expect((await post('wa', JSON.stringify(waMessage('utf-8 declared')), 'application/json; charset=UTF-8')).status).toBe(200);
  });
});
