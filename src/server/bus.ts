/**
 * In-process fan-out of committed events, in sequence order. Listeners get events only after
 * their commit; the SSE pump uses `waitBeyond` to sleep until something newer than what it sent
 * has been committed, and reads the events themselves from the store.
 */
import type { SwitchboardEvent } from '../core/index.js';
import type { StoredEvent } from './store/types.js';

export interface Committed {
  readonly stored: StoredEvent;
  readonly event: SwitchboardEvent;
}

export type BusListener = (events: readonly Committed[]) => void;

export class EventBus {
  private readonly listeners = new Set<BusListener>();
  private waiters: (() => void)[] = [];
  private latest = 0;

  /** The greatest sequence published so far. */
  get latestSequence(): number {
    return this.latest;
  }

  /** Sets the starting point (the store's latest sequence at start). */
  reset(latest: number): void {
    this.latest = latest;
  }

  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(events: readonly Committed[]): void {
    if (events.length === 0) return;
    const last = events[events.length - 1];
    if (last) this.latest = Math.max(this.latest, last.stored.seq);
    for (const l of this.listeners) {
      try {
        l(events);
      } catch {
        // A listener's failure is its own; the others still get the events.
      }
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
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

  /** Wakes every waiter (used at shutdown). */
  wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
