/**
 * In-process fan-out of committed events, in sequence order. Listeners get events only after
 * their commit. The bus also keeps a bounded **window** of the most recent commits, so that every
 * follower (SSE, `on()`, `events()`) reads live events from memory — each event serialized once,
 * by the store, not once per subscriber — and only a follower that fell behind the window pages
 * from the store until it catches up.
 */
import type { SwitchboardEvent } from '../core/index.js';
import type { StoredEvent } from './store/types.js';

export interface Committed {
  readonly stored: StoredEvent;
  readonly event: SwitchboardEvent;
  /** False for an event another instance committed (a shared store); absent or true: this one's. */
  readonly local?: boolean;
}

/** What a follower's filter looks at; the window keeps only this of each event (not its data). */
export interface EventHeader {
  readonly type: string;
  readonly platform: string;
  readonly subject: string;
  readonly source: string;
}

/** An event in the window: its stored form (the JSON every follower writes) and its header. */
export interface WindowEntry {
  readonly stored: StoredEvent;
  readonly header: EventHeader;
}

export type BusListener = (events: readonly Committed[]) => void;

export interface BusOptions {
  /** Most events kept in the window. */
  readonly windowEvents?: number;
  /** Most bytes of event JSON kept in the window. */
  readonly windowBytes?: number;
  /**
   * Waiting followers are woken at most once in this many milliseconds: commits that come faster
   * reach them together, as one page (one socket write per SSE subscriber instead of one per
   * commit). A commit after a quiet spell wakes them at once.
   */
  readonly wakeIntervalMs?: number;
}

/**
 * The most the window holds for a follower that lags: about a second of the heaviest live load
 * measured (bench/b3-live.mjs, 2,000 events/s). A follower further behind pages from the store.
 */
export const DEFAULT_BUS_OPTIONS: Required<BusOptions> = { windowEvents: 10_000, windowBytes: 16 * 1024 * 1024, wakeIntervalMs: 5 };

/** A follower's place: the sequence up to which it has read. */
export interface FollowerMark {
  position: number;
}

/** Bytes an entry costs beside its JSON: the objects, the header's strings, the SSE frame. */
const ENTRY_OVERHEAD = 256;

export class EventBus {
  private readonly listeners = new Set<BusListener>();
  private waiters: (() => void)[] = [];
  private latest = 0;
  /** Recent commits in sequence order: `window[head..]` is live, the prefix is evicted. */
  private window: WindowEntry[] = [];
  private head = 0;
  private bytes = 0;
  /** Every committed event with a greater sequence is in the window. */
  private floor = 0;
  private readonly limits: Required<BusOptions>;
  /** The followers reading from the window; an event all of them have read leaves it. */
  private readonly followers = new Set<FollowerMark>();
  private lastWake = -Infinity;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeSoon: ReturnType<typeof setImmediate> | undefined;

  constructor(options: BusOptions = {}) {
    this.limits = { ...DEFAULT_BUS_OPTIONS, ...options };
  }

  /** The greatest sequence published so far. */
  get latestSequence(): number {
    return this.latest;
  }

  /** Sets the starting point (the store's latest sequence at start); empties the window. */
  reset(latest: number): void {
    this.latest = latest;
    this.floor = latest;
    this.window = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** Empties the window: every follower reads the store from now on (after an erasure). */
  flush(): void {
    this.reset(this.latest);
  }

  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(events: readonly Committed[]): void {
    if (events.length === 0) return;
    for (const c of events) {
      const { type, platform, subject, source } = c.event;
      this.window.push({ stored: c.stored, header: { type, platform, subject, source } });
      this.bytes += c.stored.json.length + ENTRY_OVERHEAD;
      this.latest = Math.max(this.latest, c.stored.seq);
    }
    this.evict();
    this.notify(events);
    this.wake();
  }

  /** Tells the listeners about events (published already: the window and the followers are not touched). */
  notify(events: readonly Committed[]): void {
    for (const l of this.listeners) {
      try {
        l(events);
      } catch {
        // A listener's failure is its own; the others still get the events.
      }
    }
  }

  /**
   * Wakes the waiting followers after the I/O callbacks ready now (`setImmediate`: requests that
   * arrived meanwhile are read and acknowledged before the followers write), or once the wake
   * interval since the last wake has passed.
   */
  private wake(): void {
    if (this.waiters.length === 0 || this.wakeTimer !== undefined || this.wakeSoon !== undefined) return;
    const wait = this.lastWake + this.limits.wakeIntervalMs - performance.now();
    if (wait <= 0) {
      this.wakeSoon = setImmediate(() => {
        this.wakeSoon = undefined;
        this.wakeAll();
      });
      return;
    }
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAll();
    }, wait);
  }

  /**
   * Registers a follower at `position`; it moves `mark.position` as it reads and calls `release`
   * when done. The window keeps only what some follower has yet to read (within its limits):
   * with no follower it holds nothing, so that events do not outlive their commit in memory —
   * kept, every event's JSON would survive into V8's old generation and grow the heap between
   * full collections.
   */
  track(position: number): { mark: FollowerMark; release: () => void } {
    const mark: FollowerMark = { position };
    this.followers.add(mark);
    return { mark, release: () => this.followers.delete(mark) };
  }

  private evict(): void {
    const { windowEvents, windowBytes } = this.limits;
    let needed = Infinity;
    for (const f of this.followers) needed = Math.min(needed, f.position);
    for (;;) {
      const live = this.window.length - this.head;
      if (live === 0) break;
      const old = this.window[this.head] as WindowEntry;
      if (!(live > windowEvents || (this.bytes > windowBytes && live > 1) || old.stored.seq <= needed)) break;
      this.bytes -= old.stored.json.length + ENTRY_OVERHEAD;
      this.floor = old.stored.seq;
      this.head++;
    }
    // Compact the array once the evicted prefix is as long as what is kept.
    if (this.head === this.window.length) {
      this.window = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.window.length) {
      this.window = this.window.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * The committed events after `after`, at most `max`, from memory; `undefined` when the window
   * no longer holds all of them (the caller reads the store instead). An empty list means
   * nothing newer than `after` has been committed.
   */
  readAfter(after: number, max: number): readonly WindowEntry[] | undefined {
    if (after < this.floor) return undefined;
    // Binary search for the first event with a greater sequence.
    let lo = this.head;
    let hi = this.window.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.window[mid] as WindowEntry).stored.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.window.slice(lo, lo + max);
  }

  /** Events and bytes held in the window (metrics, tests). */
  get windowSize(): { events: number; bytes: number; floor: number } {
    return { events: this.window.length - this.head, bytes: this.bytes, floor: this.floor };
  }

  /** Resolves once an event with a sequence greater than `seq` is published, or on abort. */
  waitBeyond(seq: number, signal?: AbortSignal): Promise<void> {
    if (this.latest > seq || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wakes every waiter (also at shutdown). */
  wakeAll(): void {
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    if (this.wakeSoon !== undefined) clearImmediate(this.wakeSoon);
    this.wakeTimer = undefined;
    this.wakeSoon = undefined;
    this.lastWake = performance.now();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
