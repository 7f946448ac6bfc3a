/**
 * The client-side listener (DESIGN §1, layer 2): hears the call widget and Threads pushes inside
 * a page or an app, normalizes them with the same pure normalizers as the server, hands the
 * events to typed `on()` handlers, follows each widget call's lifecycle, and may forward the
 * native messages to a Switchboard server. Nothing it is given makes it throw: problems go to
 * `onError(error, input)`.
 */
import { compileTypePattern, foldCall, isRecord, jsonSyntaxMessage, type AnyEvent, type Call, type EventType, type SwitchboardEvent, type TypePattern, type TypesMatching } from '../core/index.js';
import { normalizeThreads } from '../connectors/threads/normalize.js';
import { normalizeWidget } from '../connectors/widget/normalize.js';
import { ClientError, report, type ClientErrorCode, type ErrorHandler } from './errors.js';
import { forwardTo, type ForwardOptions, type Forwarder, type ForwarderStatus } from './forwarder.js';

/** The event handed to a handler of pattern `P`: narrowed to the types the pattern matches. */
export type EventOf<T extends EventType> = T extends EventType ? SwitchboardEvent<T> : never;

/** The mobile SDK codes of the seed (Android, iOS, Flutter). */
export type WidgetMobileCode =
  | 'RINGING'
  | 'CANCELLED'
  | 'GREET'
  | 'START'
  | 'CONNECTED'
  | 'REDIRECTED'
  | 'DISCONNECTED'
  | 'FINISH'
  | 'ENDED'
  | 'FEEDBACK_SKIP'
  | 'FEEDBACK_RATE'
  | 'CLOSED';

/** A mobile SDK code as it is relayed (DESIGN §4). */
export interface MobileCodeMessage {
  code: WidgetMobileCode | (string & {});
  callId: string;
  /** Unix milliseconds. */
  timestamp: number;
  data?: Record<string, unknown>;
}

/**
 * A mobile SDK callback as a relayable message, stamped with the time it happened.
 *
 * @example
 * // Android/iOS/Flutter bridge: the widget SDK reported a code for a call
 * listener.handle(mobileCode('FEEDBACK_RATE', callId, { rate: 5 }));
 */
export function mobileCode(code: WidgetMobileCode | (string & {}), callId: string, data?: Record<string, unknown>): MobileCodeMessage {
  return data === undefined ? { code, callId, timestamp: Date.now() } : { code, callId, timestamp: Date.now(), data };
}

/** What a `message` event is to `attachWindow`. */
export interface MessageEventLike {
  readonly origin?: unknown;
  readonly data?: unknown;
}

/** What `attachWindow` needs of a window: a browser `window`, an iframe's, or a test double. */
export interface WindowLike {
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
  readonly document?: {
    readonly visibilityState?: string;
    addEventListener(type: string, listener: (event: unknown) => void): void;
    removeEventListener(type: string, listener: (event: unknown) => void): void;
  };
}

export interface ListenerOptions {
  /** Origins whose `message` events are the widget's, e.g. `https://widget.example.com`. Others are ignored. */
  widgetOrigins?: readonly string[];
  /** The connector id events are built with (their `source` and `id`); default: the widget forwarder's, else `widget`. */
  widgetConnectorId?: string;
  /** Same for Threads; default: the Threads forwarder's, else `threads`. */
  threadsConnectorId?: string;
  /** Forwarders to a Switchboard server, one per connector: options (they report to `onError`) or ready forwarders. */
  forward?: { widget?: ForwardOptions | Forwarder; threads?: ForwardOptions | Forwarder };
  /** Every problem, with the input it concerns. Default: `console.warn`. */
  onError?: ErrorHandler;
  /** Calls followed at most (the least recently changed are forgotten first); default 100. */
  maxCalls?: number;
  /** Default: `Date.now`; the receipt time and the stamp of messages without a timestamp. */
  now?: () => number;
}

/**
 * What became of one input: its events; a push of another sender (`not-threads`); something
 * that is not the widget's (`ignored`, e.g. a foreign window message); or a problem, also
 * reported to `onError` (`invalid`).
 */
export type HandleResult =
  | { readonly status: 'handled'; readonly events: readonly AnyEvent[] }
  | { readonly status: 'not-threads' }
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'invalid'; readonly error: ClientError };

export interface ListenerStats {
  /** Inputs normalized into events. */
  readonly handled: number;
  /** Inputs reported as invalid. */
  readonly invalid: number;
  /** Window messages from an origin not in `widgetOrigins`. */
  readonly foreign: number;
  /** Window messages from the widget's origin without `subject`/`payload`, and other inputs that are not the widget's. */
  readonly ignored: number;
  /** Pushes of another sender than Threads. */
  readonly notThreads: number;
  /** Events seen before (same id), not handed out again. */
  readonly duplicates: number;
  readonly forwarders: { readonly widget?: ForwarderStatus; readonly threads?: ForwarderStatus };
}

export interface Listener {
  /**
   * Calls `handler` with every event whose type matches: a type, `call.*`, `*`, or a list
   * `call.ended,message.*`. Returns the unsubscribe function.
   */
  on<P extends TypePattern>(pattern: P, handler: (event: EventOf<TypesMatching<P>>) => void): () => void;
  /** Feeds one input directly: a web widget message, a mobile code, or a Threads push (a JSON string is parsed). */
  handle(input: unknown): HandleResult;
  /** Feeds one push payload (the FCM/HCM `data`); a push of another sender gives `not-threads`. */
  threadsPush(payload: unknown): HandleResult;
  /** Listens to the widget's `message` events, and to page hide for the forwarders. Returns the detach function. */
  attachWindow(win?: WindowLike): () => void;
  /** The calls followed, most recently changed last: the same model as the server's `GET /v1/calls` rows. */
  calls(): readonly Call[];
  callState(callId: string): Call | undefined;
  /** Sends what the forwarders hold now. */
  flush(): Promise<void>;
  stats(): ListenerStats;
  /** Detaches from windows, flushes and closes the forwarders, drops the handlers. */
  close(): Promise<void>;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(['SB_ERR_INGEST_INVALID_PAYLOAD', 'SB_ERR_INGEST_MALFORMED', 'SB_ERR_EVENT_INVALID']);
const RECENT_IDS = 512;

function toClientError(err: unknown): ClientError {
  const code = isRecord(err) && typeof err.code === 'string' && KNOWN_CODES.has(err.code) ? (err.code as ClientErrorCode) : 'SB_ERR_INGEST_INVALID_PAYLOAD';
  return new ClientError(code, err instanceof Error ? err.message : String(err), { cause: err });
}

function isThreadsOrigin(v: unknown): boolean {
  return typeof v === 'string' && v.toLowerCase() === 'threads';
}

/**
 * Creates a listener.
 *
 * @example
 * import { createListener } from 'switchboard/client';
 * const listener = createListener({
 *   widgetOrigins: ['https://widget.example.com'],
 *   forward: { widget: { url: 'https://sb.example.com', connectorId: 'widget-web', token: WIDGET_TOKEN } },
 *   onError: (err, input) => console.warn(err.code, err.message, input),
 * });
 * listener.on('call.*', (e) => console.log(e.type, e.data.callId));
 * listener.attachWindow(window);
 */
export function createListener(options: ListenerOptions = {}): Listener {
  const { onError } = options;
  const now = options.now ?? Date.now;
  const maxCalls = Math.max(1, options.maxCalls ?? 100);
  const origins = new Set((options.widgetOrigins ?? []).map((o) => o.trim().toLowerCase().replace(/\/+$/, '')));
  const forwarderOf = (f: ForwardOptions | Forwarder | undefined): Forwarder | undefined =>
    f === undefined ? undefined : 'push' in f ? f : forwardTo({ ...(onError ? { onError } : {}), ...f });
  const forwarders = { widget: forwarderOf(options.forward?.widget), threads: forwarderOf(options.forward?.threads) };
  const connectorIds = {
    widget: options.widgetConnectorId ?? forwarders.widget?.connectorId ?? 'widget',
    threads: options.threadsConnectorId ?? forwarders.threads?.connectorId ?? 'threads',
  };

  let handlers: { readonly match: (type: string) => boolean; readonly fn: (event: AnyEvent) => void }[] = [];
  /** Each followed call: its events in the order heard (the fold's arrival order) and the call they make. */
  const calls = new Map<string, { readonly events: AnyEvent[]; call: Call }>();
  const recent = new Set<string>();
  const detachers = new Set<() => void>();
  const counts = { handled: 0, invalid: 0, foreign: 0, ignored: 0, notThreads: 0, duplicates: 0 };

  function dispatch(event: AnyEvent): void {
    for (const h of handlers) {
      if (!h.match(event.type)) continue;
      try {
        h.fn(event);
      } catch (err) {
        report(onError, new ClientError('SB_ERR_CLIENT_HANDLER', `a handler of ${event.type} threw: ${err instanceof Error ? err.message : String(err)}`, { cause: err }), event);
      }
    }
  }

  function follow(event: AnyEvent): void {
    if (!event.type.startsWith('call.')) return;
    const callId = (event.data as { callId?: unknown }).callId;
    if (typeof callId !== 'string') return;
    const events = [...(calls.get(callId)?.events ?? []), event];
    const call = foldCall(connectorIds.widget, callId, events);
    if (!call) return;
    calls.delete(callId);
    calls.set(callId, { events, call });
    for (const oldest of calls.keys()) {
      if (calls.size <= maxCalls) break;
      calls.delete(oldest);
    }
  }

  function invalid(error: ClientError, input: unknown): HandleResult {
    counts.invalid++;
    report(onError, error, input);
    return { status: 'invalid', error };
  }

  function run(kind: 'widget' | 'threads', native: unknown): HandleResult {
    let events: AnyEvent[];
    const ctx = { connectorId: connectorIds[kind], receivedAt: new Date(now()).toISOString() };
    try {
      events = (kind === 'widget' ? normalizeWidget : normalizeThreads)(native, ctx) as AnyEvent[];
    } catch (err) {
      // Forwarded all the same: the server keeps it in its quarantine with the same reason.
      forwarders[kind]?.push(native);
      return invalid(toClientError(err), native);
    }
    forwarders[kind]?.push(native);
    counts.handled++;
    for (const event of events) {
      if (recent.has(event.id)) {
        counts.duplicates++;
        continue;
      }
      recent.add(event.id);
      if (recent.size > RECENT_IDS) for (const id of recent) {
        recent.delete(id);
        break;
      }
      follow(event);
      dispatch(event);
    }
    return { status: 'handled', events };
  }

  /**
   * A widget message without a time (no `timestamp`, no `ts`, or `null`) gets the receipt time,
   * so that page and server agree on its time and id: one with a relay id too, whose time the
   * server would otherwise take from its own receipt, later by as long as forwarding waited.
   */
  function stamped(m: Record<string, unknown>): Record<string, unknown> {
    const stamp = m.timestamp ?? m.ts;
    return stamp === undefined || stamp === null ? { ...m, timestamp: now() } : m;
  }

  function parsed(input: unknown): { value: unknown } | { error: ClientError } {
    if (typeof input !== 'string') return { value: input };
    try {
      return { value: JSON.parse(input) as unknown };
    } catch (err) {
      return { error: new ClientError('SB_ERR_INGEST_MALFORMED', `malformed JSON: ${jsonSyntaxMessage(err)}`, { cause: err }) };
    }
  }

  function threadsPush(payload: unknown): HandleResult {
    const p = parsed(payload);
    if ('error' in p) return invalid(p.error, payload);
    if (isRecord(p.value) && !isThreadsOrigin(p.value.origin)) {
      counts.notThreads++;
      return { status: 'not-threads' };
    }
    return run('threads', p.value);
  }

  function handle(input: unknown): HandleResult {
    try {
      const p = parsed(input);
      if ('error' in p) return invalid(p.error, input);
      const m = p.value;
      if (isRecord(m) && ('subject' in m || 'payload' in m || 'code' in m || 'callId' in m)) return run('widget', stamped(m));
      if (isRecord(m) && ('origin' in m || 'readInMessageIds' in m)) return threadsPush(m);
      return invalid(new ClientError('SB_ERR_INGEST_INVALID_PAYLOAD', 'neither a widget message { subject, payload }, a mobile code { code, callId } nor a Threads push { origin, type }'), input);
    } catch (err) {
      return invalid(toClientError(err), input);
    }
  }

  function onMessage(event: unknown): void {
    let data: unknown;
    try {
      const e = (isRecord(event) ? event : {}) as MessageEventLike;
      const origin = e.origin;
      data = e.data;
      if (typeof origin !== 'string' || !origins.has(origin.toLowerCase())) {
        counts.foreign++;
        return;
      }
      let m = data;
      if (typeof m === 'string') {
        try {
          m = JSON.parse(m) as unknown;
        } catch {
          m = undefined;
        }
      }
      // The widget's frame may post other things (sizes, pings): only `{ subject, payload }` is the widget's.
      if (!isRecord(m) || !('subject' in m) || !('payload' in m)) {
        counts.ignored++;
        return;
      }
      run('widget', stamped(m));
    } catch (err) {
      invalid(toClientError(err), data);
    }
  }

  function pageHide(): void {
    forwarders.widget?.pageHide();
    forwarders.threads?.pageHide();
  }

  function attachWindow(win?: WindowLike): () => void {
    const w = win ?? (globalThis as { window?: WindowLike }).window;
    if (!w) return () => {};
    const doc = w.document;
    const onVisibility = (): void => {
      if (doc?.visibilityState === 'hidden') pageHide();
    };
    w.addEventListener('message', onMessage);
    w.addEventListener('pagehide', pageHide);
    doc?.addEventListener('visibilitychange', onVisibility);
    const detach = (): void => {
      w.removeEventListener('message', onMessage);
      w.removeEventListener('pagehide', pageHide);
      doc?.removeEventListener('visibilitychange', onVisibility);
      detachers.delete(detach);
    };
    detachers.add(detach);
    return detach;
  }

  return {
    on<P extends TypePattern>(pattern: P, handler: (event: EventOf<TypesMatching<P>>) => void): () => void {
      const entry = { match: compileTypePattern(pattern), fn: handler as (event: AnyEvent) => void };
      handlers.push(entry);
      return () => {
        handlers = handlers.filter((h) => h !== entry);
      };
    },
    handle,
    threadsPush(payload) {
      try {
        return threadsPush(payload);
      } catch (err) {
        return invalid(toClientError(err), payload);
      }
    },
    attachWindow,
    calls: () => [...calls.values()].map((c) => c.call),
    callState: (callId) => calls.get(callId)?.call,
    async flush() {
      await Promise.all([forwarders.widget?.flush(), forwarders.threads?.flush()]);
    },
    stats: () => ({
      ...counts,
      forwarders: {
        ...(forwarders.widget ? { widget: forwarders.widget.status() } : {}),
        ...(forwarders.threads ? { threads: forwarders.threads.status() } : {}),
      },
    }),
    async close() {
      for (const detach of [...detachers]) detach();
      handlers = [];
      await Promise.all([forwarders.widget?.close(), forwarders.threads?.close()]);
    },
  };
}
