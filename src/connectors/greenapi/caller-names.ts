/**
 * Caller names: after a call event is committed, look up the caller with `getContactInfo`
 * (never more than one call per second per instance, one at a time), take `contactName`, then
 * `name`, then the number, keep the answer in a persistent cache, and emit `contact.updated`.
 * It runs beside the pipeline and sees events only after their commit, so it never delays an ack.
 */
import { collector, type NormalizeContext, type SwitchboardEvent } from '../../core/index.js';
import { GateRegistry } from '../limiter.js';
import type { ConnectorService, ServiceContext } from '../types.js';
import { GreenApiClient, type ContactInfo } from './client.js';
import type { GreenApiSettings } from './settings.js';

/** GREEN-API allows one getContactInfo per second per instance; a margin covers clock jitter. */
export const CONTACT_INFO_INTERVAL_MS = 1100;
const contactGates = new GateRegistry(CONTACT_INFO_INTERVAL_MS);
const NAMESPACE = 'contact-info';

interface Cached {
  name: string;
  info: ContactInfo;
}

/** The phone party of a call event: the caller of an inbound call, the callee of an outbound one. */
function chatIdOf(e: SwitchboardEvent): string | undefined {
  if (!e.type.startsWith('call.')) return undefined;
  const data = e.data as { direction?: string; from?: { id?: string }; to?: { id?: string } };
  const id = data.direction === 'outbound' ? data.to?.id : data.from?.id;
  return id?.endsWith('@c.us') ? id : undefined;
}

/** `contactName`, then `name`, then the number. */
export function displayName(info: ContactInfo, chatId: string): string {
  const pick = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  return pick(info.contactName) ?? pick(info.name) ?? chatId.replace(/@.*$/, '');
}

/** A chat id as the log shows it: a phone number is personal data (docs/privacy.md), so all its digits but the last two are masked. */
export function masked(chatId: string): string {
  return chatId.replace(/\d(?=\d{2})/g, '*');
}

export function callerNames(ctx: ServiceContext<GreenApiSettings>): ConnectorService | undefined {
  const polling = ctx.settings.polling;
  if (!polling || ctx.settings.callerNames === false) return undefined;
  const client = new GreenApiClient(polling);
  const gate = contactGates.for(polling.idInstance);
  const ttlMs = (ctx.settings.callerNameTtlHours ?? 24) * 3600_000;
  const queue: string[] = [];
  const queuedAt = new Map<string, number>();
  const abort = new AbortController();
  let worker: Promise<void> | undefined;

  const normalizeCtx = (): NormalizeContext => ({ connectorId: ctx.connectorId, receivedAt: new Date().toISOString() });

  async function resolve(chatId: string): Promise<void> {
    const cached = await ctx.kv.get(NAMESPACE, chatId);
    if (cached && Date.now() - Date.parse(cached.updatedAt) < ttlMs) return;
    let info: ContactInfo | undefined;
    for (let attempt = 0; attempt < 3 && !abort.signal.aborted; attempt++) {
      await gate.pass(abort.signal);
      try {
        info = await client.contactInfo(chatId, abort.signal);
        break;
      } catch (err) {
        if (abort.signal.aborted) return;
        ctx.warn(`getContactInfo for ${masked(chatId)} failed: ${(err as Error).message}`);
      }
    }
    if (!info) return;
    const name = displayName(info, chatId);
    const value: Cached = { name, info };
    await ctx.kv.put(NAMESPACE, chatId, JSON.stringify(value));
    if (cached && (JSON.parse(cached.value) as Cached).name === name) return;
    const out = collector('greenapi', normalizeCtx(), info, `contact|${chatId}|${name}`, 'getContactInfo');
    out.emit('contact.updated', `client/${chatId}`, { contactId: chatId, name, phone: chatId.replace(/@.*$/, '') });
    await ctx.emit(out.events);
  }

  async function drain(): Promise<void> {
    while (queue.length > 0 && !abort.signal.aborted) {
      const chatId = queue.shift() as string;
      try {
        await resolve(chatId);
      } catch (err) {
        if (!abort.signal.aborted) ctx.warn(`caller name for ${masked(chatId)} not resolved: ${(err as Error).message}`);
      }
    }
    worker = undefined;
  }

  return {
    onCommitted(events) {
      for (const e of events) {
        const chatId = chatIdOf(e);
        // Each number is looked up at most once per cache lifetime; the persistent cache spans runs.
        if (!chatId || Date.now() - (queuedAt.get(chatId) ?? -Infinity) < ttlMs) continue;
        queuedAt.set(chatId, Date.now());
        queue.push(chatId);
      }
      if (queue.length > 0 && !worker) worker = drain();
    },
    async stop() {
      abort.abort();
      await worker;
    },
  };
}
