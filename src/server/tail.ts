/**
 * Feeds the bus from the store, in sequence order, when several instances share one store
 * (PostgreSQL). An instance's own commits and the other instances' reach its bus only by reading
 * the store after the last sequence published. The store makes commits visible in sequence order
 * (docs/storage.md, "Sequence visibility"), so that read never skips an event that becomes visible
 * later. Followers (SSE, `on()`, `events()`), delivery wake-ups and connector services then work
 * from the bus as on one instance.
 *
 * The reads are poked: after each local commit, when the store says another instance committed
 * (PostgreSQL's LISTEN/NOTIFY), and by a slow safety timer. One read runs at a time, and pokes
 * during a read ask for one more.
 */
import type { Logger } from 'pino';
import type { SwitchboardEvent } from '../core/index.js';
import type { Committed, EventBus } from './bus.js';
import type { Store } from './store/types.js';

export interface StoreTailOptions {
  /** Events per read (default 1,000). */
  readonly pageSize?: number;
  /** A failed read is tried again after this long (default 1 s). */
  readonly retryMs?: number;
}

export class StoreTail {
  private running = false;
  private again = false;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  /** The events this instance committed and the tail has not published yet, by sequence: published as they are, not parsed again. */
  private readonly local = new Map<number, SwitchboardEvent>();
  private idle: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly options: StoreTailOptions = {},
  ) {}

  /**
   * This instance's commit: its events are published with the next read. A read may have come
   * first (poked by this commit's own NOTIFY before the commit call returned here): those events
   * went out as another instance's, so the bus's listeners are told again that they are this
   * instance's (the caller-name lookups, for one, react to this instance's commits only).
   */
  committed(events: readonly Committed[]): void {
    const late: Committed[] = [];
    for (const c of events) {
      if (c.stored.seq <= this.bus.latestSequence) late.push({ ...c, local: true });
      else this.local.set(c.stored.seq, c.event);
    }
    if (late.length > 0) this.bus.notify(late);
    this.poke();
  }

  /** Something may have been committed: read the store after the last published sequence. */
  poke(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    const pageSize = this.options.pageSize ?? 1000;
    try {
      do {
        this.again = false;
        for (;;) {
          const page = await this.store.queryEvents({ after: this.bus.latestSequence, limit: pageSize });
          if (page.length === 0 || this.closed) break;
          this.bus.publish(
            page.map((stored): Committed => {
              const own = this.local.get(stored.seq);
              if (own) this.local.delete(stored.seq);
              return { stored, event: own ?? (JSON.parse(stored.json) as SwitchboardEvent), local: own !== undefined };
            }),
          );
          if (page.length < pageSize) break;
        }
      } while (this.again && !this.closed);
    } catch (err) {
      if (!this.closed) {
        this.logger.warn({ err }, 'live events: cannot read the store; trying again');
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.poke(), this.options.retryMs ?? 1000);
        this.retry.unref();
      }
    } finally {
      this.running = false;
      const idle = this.idle;
      this.idle = [];
      for (const r of idle) r();
    }
  }

  /** Stops reading; waits for a read in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    if (this.running) await new Promise<void>((r) => this.idle.push(r));
  }
}
