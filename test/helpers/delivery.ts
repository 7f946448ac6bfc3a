/**
 * A real Switchboard (library, HTTP on loopback) for the delivery tests, with small helpers for
 * the API and for ingesting GREEN-API payloads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { testStoreFor } from './postgres.js';
import { createSwitchboard, type Switchboard, type SwitchboardConfigInput } from '../../src/index.js';
import type { DeliveryView } from '../../src/server/delivery/routes.js';

export const API_TOKEN = 'delivery-test-api-token-0123';
export const INGEST_TOKEN = 'delivery-test-ingest-token-0123';

export interface DeliveryServer {
  readonly sb: Switchboard;
  readonly url: string;
  readonly dir: string;
  api<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** POSTs payloads to /ingest/wa; answers the ingest result. */
  ingest(payloads: readonly unknown[]): Promise<{ accepted: number; duplicates: number; events: number }>;
  metrics(): Promise<string>;
  /** Closes the server; keeps the data folder when `keep` (restarts). */
  close(keep?: boolean): Promise<void>;
}

/** Fast retries for tests: 8 attempts within about a second. */
export const FAST_SCHEDULE = ['0ms', '50ms', '100ms', '150ms', '200ms', '250ms', '300ms', '300ms'];

export async function startDeliveryServer(config: SwitchboardConfigInput = {}, dir = mkdtempSync(join(tmpdir(), 'sb-delivery-'))): Promise<DeliveryServer> {
  const store = await testStoreFor(dir, join(dir, 'sb.db'));
  const sb = createSwitchboard(
    {
      server: { port: 0, apiToken: API_TOKEN },
      store: store.store,
      connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN }],
      log: { level: 'silent' },
      dataDir: dir,
      ...config,
      delivery: { allowPrivateTargets: true, retrySchedule: FAST_SCHEDULE, timeout: '1s', ...config.delivery },
    },
    { logger: pino({ level: process.env.SB_TEST_LOG ?? 'silent' }), processMetrics: false, env: {} },
  );
  await sb.start();
  const url = sb.url ?? '';
  return {
    sb,
    url,
    dir,
    async api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) {
      const headers: Record<string, string> = { authorization: `Bearer ${API_TOKEN}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
    },
    async ingest(payloads) {
      const res = await fetch(`${url}/ingest/wa`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(payloads) });
      if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { accepted: number; duplicates: number; events: number };
    },
    async metrics() {
      return (await fetch(`${url}/metrics`)).text();
    },
    async close(keep = false) {
      await sb.close();
      await store.release(keep);
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;

/** A GREEN-API incoming text message in chat `chat` (the event's subject is `conversation/<chat>@c.us`). */
export function chatMessage(chat: string, text: string, idMessage = `DLV-${process.pid}-${++counter}`, timestamp = 1_700_000_000 + counter): Record<string, unknown> {
  return {
    typeWebhook: 'incomingMessageReceived',
    instanceData: { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' },
    timestamp,
    idMessage,
    senderData: { chatId: `${chat}@c.us`, sender: `${chat}@c.us`, senderName: 'Ivan' },
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: text } },
  };
}

/** A GREEN-API incomingCall (`call.ringing` on offer). */
export function callOffer(idMessage: string, timestamp = 1_700_000_000): Record<string, unknown> {
  return {
    typeWebhook: 'incomingCall',
    instanceData: { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' },
    timestamp,
    from: '79001234567@c.us',
    status: 'offer',
    idMessage,
  };
}

export interface SubscriptionBody {
  id: string;
  url: string;
  secret?: string;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  origin: string;
  mode: string;
  ordered: boolean;
  filters: Record<string, unknown>;
  secrets: { hint: string; expiresAt: string | null }[];
  deliveries: { pending: number; delivered: number; failed: number };
}

/** A delivery as the API answers it: the route's own response schema. */
export type DeliveryBody = DeliveryView;

export interface ErrorBody {
  error: { code: string; message: string };
}
