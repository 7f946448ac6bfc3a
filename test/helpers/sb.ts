import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { testStoreFor } from './postgres.js';
import { createSwitchboard, type CreateOptions, type Switchboard, type SwitchboardConfigInput } from '../../src/index.js';

export const API_TOKEN = 'test-api-token-0123456789';
export const INGEST_TOKEN = 'test-ingest-token-0123456789';

export interface TestServer {
  sb: Switchboard;
  url: string;
  dir: string;
  /** The store it runs on: a restart on the same data gives this to the next server. */
  store: { sqlite?: string | undefined; postgres?: string | undefined };
  close(): Promise<void>;
}

/** A real Switchboard on a loopback port with its SQLite file in a fresh temp folder. */
export async function startTestServer(overrides: SwitchboardConfigInput = {}, options: Pick<CreateOptions, 'now' | 'logger' | 'processMetrics' | 'refusalLogIntervalMs'> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-test-'));
  // A test that names its store keeps it; the others run on the suite's (SWITCHBOARD_TEST_STORE).
  const store = overrides.store?.sqlite !== undefined || overrides.store?.postgres !== undefined ? { store: overrides.store, release: async () => undefined } : await testStoreFor(dir, join(dir, 'sb.db'));
  const sb = createSwitchboard(
    {
      server: { port: 0, apiToken: API_TOKEN, ...overrides.server },
      store: { ...store.store, ...overrides.store },
      connectors: overrides.connectors ?? [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN }],
      log: { level: 'silent' },
      ...(overrides.nats ? { nats: overrides.nats } : {}),
      ...(overrides.delivery ? { delivery: overrides.delivery } : {}),
      ...(overrides.subscriptions ? { subscriptions: overrides.subscriptions } : {}),
      ...(overrides.retention ? { retention: overrides.retention } : {}),
    },
    { logger: pino({ level: 'silent' }), processMetrics: false, env: {}, ...options },
  );
  await sb.start();
  return {
    sb,
    url: sb.url ?? '',
    dir,
    store: { ...store.store, ...overrides.store },
    async close() {
      await sb.close();
      await store.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A GREEN-API incoming text message with a fresh idMessage. */
export function waMessage(text = 'hello', idMessage = `MSG-${process.pid}-${++counter}`): Record<string, unknown> {
  return {
    typeWebhook: 'incomingMessageReceived',
    instanceData: { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' },
    timestamp: 1700000000 + counter,
    idMessage,
    senderData: { chatId: '79001234567@c.us', sender: '79001234567@c.us', senderName: 'Ivan' },
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: text } },
  };
}

export function ingestHeaders(contentType = 'application/json', token = INGEST_TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': contentType };
}

export const apiHeaders = { authorization: `Bearer ${API_TOKEN}` };

/** A GREEN-API incomingCall notification. */
export function waCall(idMessage: string, status: string): Record<string, unknown> {
  return {
    typeWebhook: 'incomingCall',
    instanceData: { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' },
    timestamp: 1700000000,
    from: '79001234567@c.us',
    status,
    idMessage,
  };
}

const WA_INSTANCE = { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' };

/** A GREEN-API incoming text message from `phone` (its chat), with the sender's name. */
export function waMessageFrom(idMessage: string, phone: string, text: string, senderName = `Client ${phone.slice(-2)}`): Record<string, unknown> {
  return {
    typeWebhook: 'incomingMessageReceived',
    instanceData: WA_INSTANCE,
    timestamp: 1_700_000_000,
    idMessage,
    senderData: { chatId: `${phone}@c.us`, sender: `${phone}@c.us`, senderName },
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: text } },
  };
}

/** A GREEN-API incomingCall notification from `phone`. */
export function waCallFrom(idMessage: string, phone: string, status: string): Record<string, unknown> {
  return { typeWebhook: 'incomingCall', instanceData: WA_INSTANCE, timestamp: 1_700_000_000, from: `${phone}@c.us`, status, idMessage };
}

/**
 * Waits for the retention job's own pass at the start (on PostgreSQL once the instance holds the
 * lease): it counts windows back from the real time, so it must be over before a test ingests
 * events "days old" and runs its own pass.
 */
export async function retentionStartPassDone(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!/^switchboard_retention_last_pass_timestamp_seconds [1-9]/m.test(await (await fetch(`${url}/metrics`)).text())) {
    if (Date.now() > deadline) throw new Error(`the retention job's first pass did not end within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
