/**
 * Reads stored events after a sequence and then follows new commits: the one mechanism behind
 * the SSE stream, `on()` handlers and the `events()` iterator. Recent events come from the bus's
 * window in memory, older ones from the store in pages; it sleeps on the bus between commits, so
 * a slow reader costs no memory and never sees a gap or a repeat.
 */
import { compileTypePattern } from '../core/index.js';
import type { EventBus } from './bus.js';
import type { EventQuery, Store, StoredEvent } from './store/types.js';

export interface FollowFilter {
  /** Type pattern(s), e.g. `call.*,message.created`. */
  readonly type?: string | undefined;
  readonly platform?: string | undefined;
  readonly subject?: string | undefined;
  readonly connectorId?: string | undefined;
}

/** Splits a type pattern into the store's form; `*` alone means all. */
export function splitTypePattern(pattern: string | undefined): string[] | undefined {
  if (!pattern) return undefined;
  const parts = pattern.split(',').map((p) => p.trim()).filter(Boolean);
  return parts.length === 0 || parts.includes('*') ? undefined : parts;
}

export function toQuery(filter: FollowFilter, after: number | undefined, limit: number): EventQuery {
  return { types: splitTypePattern(filter.type), platform: filter.platform, subject: filter.subject, connectorId: filter.connectorId, after, limit };
}

/** A predicate equal to the store filter, for events that come from memory. */
export function matcher(filter: FollowFilter): (e: { type: string; platform: string; subject: string; source: string }) => boolean {
  const typeOk = compileTypePattern(filter.type ?? '*');
  return (e) =>
    typeOk(e.type) &&
    (filter.platform === undefined || e.platform === filter.platform) &&
    (filter.connectorId === undefined || e.source.endsWith(`/${filter.connectorId}`)) &&
    (filter.subject === undefined || (filter.subject.endsWith('*') ? e.subject.startsWith(filter.subject.slice(0, -1)) : e.subject === filter.subject));
}

/**
 * The stored events after `after` that match `filter`, then — unless `follow: false` — every
 * new one as it is committed, in pages (arrays in sequence order, never empty). Live events come
 * from the bus's window in memory (the same objects for every follower); a follower behind the
 * window pages from the store until it catches up. The follower holds only its position, so one
 * that does not read costs nothing and slows no one.
 */
export async function* followPages(
  store: Store,
  bus: EventBus,
  filter: FollowFilter,
  after: number,
  options: { signal?: AbortSignal; follow?: boolean; pageSize?: number } = {},
): AsyncGenerator<readonly StoredEvent[]> {
  const pageSize = options.pageSize ?? 500;
  const matches = matcher(filter);
  let scanned = after;
  // The window keeps what this follower has yet to read (within its limits).
  const { mark, release } = bus.track(after);
  try {
    while (!options.signal?.aborted) {
      // Everything committed up to `head` is visible to the reads below.
      const head = bus.latestSequence;
      const recent = bus.readAfter(scanned, pageSize);
      if (recent) {
        const last = recent[recent.length - 1];
        if (last) {
          scanned = last.stored.seq;
          mark.position = scanned;
          const out: StoredEvent[] = [];
          for (const c of recent) if (matches(c.header)) out.push(c.stored);
          if (out.length > 0) yield out;
          if (options.signal?.aborted) return;
        }
        if (recent.length === pageSize) continue;
      } else {
        const page = await store.queryEvents(toQuery(filter, scanned, pageSize));
        const last = page[page.length - 1];
        if (last) {
          scanned = last.seq;
          mark.position = scanned;
          yield page;
          if (options.signal?.aborted) return;
        }
        if (page.length === pageSize) continue;
      }
      scanned = Math.max(scanned, head);
      mark.position = scanned;
      if (options.follow === false) return;
      await bus.waitBeyond(scanned, options.signal);
    }
  } finally {
    release();
  }
}

/** `followPages`, one event at a time (`on()` handlers, `events()`). */
export async function* follow(
  store: Store,
  bus: EventBus,
  filter: FollowFilter,
  after: number,
  options: { signal?: AbortSignal; follow?: boolean; pageSize?: number } = {},
): AsyncGenerator<StoredEvent> {
  for await (const page of followPages(store, bus, filter, after, options)) {
    for (const e of page) {
      if (options.signal?.aborted) return;
      yield e;
    }
  }
}
