/**
 * Issue 17, files and logs (docs/privacy.md): the data folder is this user's only (0700); the
 * SQLite database with its WAL and shared-memory files, the API token and a generated webhook
 * secret are 0600 — also in a folder an older version made 0755 with a 0644 database. And a
 * server logging at `info` writes no phone number, chat id, name or message text of what it takes
 * in: neither for stored messages, nor for a quarantined payload, nor for a failed caller-name
 * lookup, nor its pull connector's credentials.
 */
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loggerOptions } from '../src/server/log.js';
import { createSwitchboard } from '../src/server/switchboard.js';
import { closeHttp, freePort, http, killAllChildren, makeTempDir, removeTempDirs, startServerWith } from './helpers/process.js';
import { API_TOKEN, INGEST_TOKEN } from './helpers/sb.js';
import { waitFor } from './helpers/receiver.js';

const mode = (path: string) => statSync(path).mode & 0o777;

afterAll(async () => {
  await killAllChildren();
  await closeHttp();
  removeTempDirs();
});

describe('files only the service can read', () => {
  it('makes the data folder 0700 and the database, its WAL, the API token and a webhook secret 0600, also in an older 0755 folder', async () => {
    const dir = join(makeTempDir('sb-privacy-files-'), 'data'); // made by the server
    const start = async () => {
      const sb = createSwitchboard(
        {
          server: { port: 0 },
          dataDir: dir,
          connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN }],
          subscriptions: [{ id: 'hook', url: 'http://127.0.0.1:9/hook' }],
          delivery: { allowPrivateTargets: true },
        },
        { logger: pino({ level: 'silent' }), processMetrics: false, env: {} },
      );
      await sb.start();
      return sb;
    };
    const files = ['switchboard.db', 'switchboard.db-wal', 'switchboard.db-shm', 'api-token', 'subscription-hook.secret'].map((f) => join(dir, f));

    let sb = await start();
    const res = await fetch(`${sb.url ?? ''}/ingest/wa`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ typeWebhook: 'stateInstanceChanged', instanceData: { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' }, timestamp: 1_700_000_000, stateInstance: 'authorized' }),
    });
    expect(res.status).toBe(200);
    expect(mode(dir).toString(8)).toBe('700');
    for (const f of files) {
      expect(existsSync(f), f).toBe(true);
      expect(mode(f).toString(8), f).toBe('600');
    }
    await sb.close();

    // A folder and files from an older version, readable by everyone: tightened at the start.
    chmodSync(dir, 0o755);
    for (const f of files) if (existsSync(f)) chmodSync(f, 0o644);
    sb = await start();
    expect(mode(dir).toString(8)).toBe('700');
    for (const f of files) if (existsSync(f)) expect(mode(f).toString(8), f).toBe('600');
    await sb.close();
  });
});

describe('the log at info', () => {
  it('holds no phone number, chat id, name, message text or pull credential', async () => {
    const dir = makeTempDir('sb-privacy-log-');
    const phone = '79161234567';
    const text = 'my card number is 4111 1111';
    const name = 'Anastasia Privatova';
    const apiTokenInstance = 'polling-secret-token-0123456789';
    const dead = await freePort(); // nothing listens: getContactInfo and the poller fail, and say so
    const port = await freePort();
    const config = join(dir, 'sb.yaml');
    writeFileSync(
      config,
      stringify({
        server: { port, apiToken: API_TOKEN },
        log: { level: 'info' },
        connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN, polling: { apiUrl: `http://127.0.0.1:${dead}`, idInstance: '1101', apiTokenInstance, receiveTimeout: 5 } }],
      }),
    );
    const server = await startServerWith(['serve', '--config', config, '--data', dir]);
    const instanceData = { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' };
    const ingest = (body: string) => http('POST', `${server.url}/ingest/wa`, { token: INGEST_TOKEN, body });
    const message = { typeWebhook: 'incomingMessageReceived', instanceData, timestamp: 1_700_000_001, idMessage: 'PRIV-1', senderData: { chatId: `${phone}@c.us`, sender: `${phone}@c.us`, senderName: name }, messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: text } } };
    const call = { typeWebhook: 'incomingCall', instanceData, timestamp: 1_700_000_002, idMessage: 'PRIV-CALL-1', from: `${phone}@c.us`, status: 'offer' };
    expect((await ingest(JSON.stringify([message, call]))).status).toBe(200);
    // Malformed, with the number and the text in it: quarantined.
    expect((await ingest(`{"typeWebhook":"incomingMessageReceived","senderData":{"chatId":"${phone}@c.us"},"text":"${text}"`)).status).toBe(400);
    // Not JSON at all, starting with the name: V8's message would quote its first 10 characters.
    const notJson = await ingest(`${name} ${phone}: ${text}`);
    expect(notJson.status).toBe(400);
    expect(notJson.text).toContain("Unexpected token 'A' (not valid JSON)");
    // The caller-name lookup for the call fails against the dead API (its warning names the chat).
    await waitFor(() => /getContactInfo for \*+67@c\.us failed/.test(server.child.stderr), 10_000);
    const exit = await server.child.kill('SIGTERM');
    expect(exit.code).toBe(0);

    const log = server.child.stderr;
    expect(log).toMatch(/getContactInfo for \*+67@c\.us failed/); // the lookup failed, and said so, masked
    for (const secret of [phone, text, name, apiTokenInstance, phone.slice(1), name.slice(0, 9)]) expect(log, `the log names ${secret}`).not.toContain(secret);
  });
});

describe('the log options', () => {
  it('redact personal fields as [personal] and credentials as [secret], one level deep too', () => {
    const lines: string[] = [];
    const logger = pino(loggerOptions('info'), { write: (s: string) => void lines.push(s) });
    logger.info({ phone: '79161234567', event: { data: { text: 'hi' }, chatId: '79161234567@c.us' }, connector: 'wa', apiTokenInstance: 'x1', req: { headers: { authorization: 'Bearer y2', cookie: 'sb_session=z3' } } }, 'a line');
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ phone: '[personal]', event: { data: '[personal]', chatId: '[personal]' }, connector: 'wa', apiTokenInstance: '[secret]', req: { headers: { authorization: '[secret]', cookie: '[secret]' } } });
  });
});
