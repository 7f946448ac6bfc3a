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
import type { GreenApiSettings } from './settings.js';

/**
 * Request pacing per instance and per method (receiveNotification and deleteNotification each
 * have GREEN-API's per-instance limit), shared by every connector polling the same instance in
 * this process; the slowest pace asked for wins.
 */
const requestGates = new GateRegistry(10);

/** Keeps quarantined raw text to a sane size. */
function clip(raw: string): string {
  return raw.length > 65_536 ? `${raw.slice(0, 65_536)}… (${raw.length} characters)` : raw;
}

export function greenApiPoller(ctx: SourceContext<GreenApiSettings>): Source | undefined {
  const polling = ctx.settings.polling;
  if (!polling || polling.receive === false) return undefined;
  const client = new GreenApiClient(polling);
  const interval = Math.ceil(1000 / (polling.maxRequestsPerSecond ?? 50));
  const receiveGate = requestGates.for(`${polling.idInstance}|receive`, interval);
  const deleteGate = requestGates.for(`${polling.idInstance}|delete`, interval);
  const receiveTimeout = polling.receiveTimeout ?? 20;
  const keep = ctx.settings.keepTypes ? new Set(ctx.settings.keepTypes) : undefined;
  const maxBytes = polling.maxNotificationBytes ?? 1024 * 1024;
  let connected = false;
  let lastMalformed: string | undefined;

  return {
    reportsConnected: true,
    async connect() {
      // Nothing to open: the first answered request shows that the instance is reachable.
    },
    async read(signal: AbortSignal): Promise<SourceBatch | null> {
      await receiveGate.pass(signal);
      const deleteAfterCommit = (receiptId: number) => async () => {
        await deleteGate.pass();
        await client.delete(receiptId);
      };
      let received;
      try {
        received = await client.receive(receiveTimeout, signal);
      } catch (err) {
        if (!(err instanceof MalformedAnswerError)) throw err;
        // An unreadable answer is quarantined; when its receipt id can still be read it is
        // deleted, so that the queue moves on. Without one, quarantine it once and back off.
        if (err.receiptId !== undefined) return { items: [], rejected: [{ error: err.message, raw: clip(err.raw) }], ack: deleteAfterCommit(err.receiptId) };
        if (err.raw !== lastMalformed) {
          lastMalformed = err.raw;
          return { items: [], rejected: [{ error: err.message, raw: clip(err.raw) }] };
        }
        throw err;
      }
      if (!connected) {
        connected = true;
        ctx.signal({ kind: 'connected', detail: `polling instance ${polling.idInstance}` });
      }
      if (received === null) return null;
      const { receiptId, body, size } = received;
      if (size > maxBytes) {
        const error = `notification of ${size} bytes is over polling.maxNotificationBytes (${maxBytes})`;
        return { items: [], rejected: [{ error, raw: clip(JSON.stringify(body)) }], ack: deleteAfterCommit(receiptId) };
      }
      const type = isRecord(body) ? body.typeWebhook : undefined;
      const skip = keep !== undefined && typeof type === 'string' && !keep.has(type);
      return { items: skip ? [] : [body], ack: deleteAfterCommit(receiptId) };
    },
    async close() {},
  };
}
