/**
 * GREEN-API polling: long-polls `receiveNotification`, hands each notification to the runtime,
 * and deletes it (`deleteNotification`) only in the batch's ack — after the commit. Notification
 * types the user chose not to keep are acked without events, so the queue never stalls. The
 * queue is strictly FIFO (the same oldest notification comes back until it is deleted), so one
 * notification is in flight at a time; requests per instance are spaced to stay under the
 * platform's limit.
 */
import { isRecord } from '../../core/index.js';
import { GateRegistry } from '../limiter.js';
import type { Source, SourceBatch, SourceContext } from '../types.js';
import { GreenApiClient, MalformedAnswerError } from './client.js';
import type { GreenApiSettings } from './index.js';

/** Shared by every connector polling the same instance in this process. */
const requestGates = new Map<number, GateRegistry>();
function gateFor(idInstance: string, perSecond: number) {
  const interval = Math.ceil(1000 / perSecond);
  let reg = requestGates.get(interval);
  if (!reg) {
    reg = new GateRegistry(interval);
    requestGates.set(interval, reg);
  }
  return reg.for(idInstance);
}

export function greenApiPoller(ctx: SourceContext<GreenApiSettings>): Source | undefined {
  const polling = ctx.settings.polling;
  if (!polling || polling.receive === false) return undefined;
  const client = new GreenApiClient(polling);
  const gate = gateFor(polling.idInstance, polling.maxRequestsPerSecond ?? 50);
  const receiveTimeout = polling.receiveTimeout ?? 20;
  const keep = ctx.settings.keepTypes ? new Set(ctx.settings.keepTypes) : undefined;
  let connected = false;
  let lastMalformed: string | undefined;

  return {
    reportsConnected: true,
    async connect() {
      // Nothing to open: the first answered request shows that the instance is reachable.
    },
    async read(signal: AbortSignal): Promise<SourceBatch | null> {
      await gate.pass(signal);
      let received;
      try {
        received = await client.receive(receiveTimeout, signal);
      } catch (err) {
        // An unreadable answer has no receipt id to delete: quarantine it once, then back off.
        if (err instanceof MalformedAnswerError && err.raw !== lastMalformed) {
          lastMalformed = err.raw;
          return { items: [], rejected: [{ error: err.message, raw: err.raw }] };
        }
        throw err;
      }
      if (!connected) {
        connected = true;
        ctx.signal({ kind: 'connected', detail: `polling instance ${polling.idInstance}` });
      }
      if (received === null) return null;
      const { receiptId, body } = received;
      const type = isRecord(body) ? body.typeWebhook : undefined;
      const skip = keep !== undefined && typeof type === 'string' && !keep.has(type);
      return {
        items: skip ? [] : [body],
        ack: async () => {
          await gate.pass();
          await client.delete(receiptId);
        },
      };
    },
    async close() {},
  };
}
