/**
 * One instance at a time: runs work only while this instance holds a lease in the shared store
 * (docs/scaling.md) — a pulled connector (GREEN-API polling, TWIN), the NATS sink. The holder
 * renews the lease every `renewMs`; an instance without it asks every `renewMs` too, and takes it
 * once the holder let it run out (`ttlMs` after its last renewal). So after the holder dies the
 * work moves within `ttlMs + renewMs`. A holder that cannot renew (another took the lease, or the
 * store did not answer for longer than the lease lasts) stops the work.
 */
import type { Logger } from 'pino';
import { sleep } from '../core/index.js';
import type { LeaseStore } from './store/types.js';

export interface LeaseTiming {
  /** How long a lease lasts after a renewal (default 10 s). */
  readonly ttlMs: number;
  /** How often the holder renews and the others ask (default 2 s). */
  readonly renewMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: 10_000, renewMs: 2_000 };

/** The timing of `store.leaseTtl`: renewed every fifth of it. */
export function leaseTiming(ttlMs: number): LeaseTiming {
  return { ttlMs, renewMs: Math.max(400, Math.round(ttlMs / 5)) };
}

export class Lease {
  /** Who held the lease when last asked ('' when nobody). */
  holder = '';

  constructor(
    private readonly store: LeaseStore,
    readonly name: string,
    readonly owner: string,
    private readonly logger: Logger,
    private readonly timing: LeaseTiming = DEFAULT_LEASE_TIMING,
  ) {}

  get held(): boolean {
    return this.holder === this.owner;
  }

  private async ask(): Promise<boolean> {
    try {
      const r = await this.store.acquire(this.name, this.owner, this.timing.ttlMs);
      this.holder = r.owner;
      return r.held;
    } catch (err) {
      this.logger.warn({ err, lease: this.name }, 'lease: the store did not answer');
      return false;
    }
  }

  /**
   * Runs `work` whenever this instance holds the lease, until `signal` aborts: waits for the
   * lease, runs `work` with a signal that aborts when the lease is lost (or `signal` aborts), and
   * after it returns waits again. Gives the lease up at the end.
   */
  async run(signal: AbortSignal, work: (signal: AbortSignal) => Promise<void>, onStandby: () => void = () => undefined): Promise<void> {
    while (!signal.aborted) {
      onStandby();
      while (!signal.aborted && !(await this.ask())) await sleep(this.timing.renewMs, signal);
      if (signal.aborted) break;
      this.logger.info({ lease: this.name, owner: this.owner }, `lease: ${this.name} taken by this instance`);
      const tenure = new AbortController();
      const end = () => tenure.abort();
      signal.addEventListener('abort', end, { once: true });
      const keep = this.keep(tenure);
      try {
        await work(tenure.signal);
      } finally {
        tenure.abort();
        signal.removeEventListener('abort', end);
        await keep;
      }
    }
    await this.store.release(this.name, this.owner).catch(() => undefined);
    if (this.holder === this.owner) this.holder = '';
  }

  /** Renews until `tenure` aborts; aborts it when the lease is lost or cannot be renewed before it would run out. */
  private async keep(tenure: AbortController): Promise<void> {
    let renewedAt = Date.now();
    while (!tenure.signal.aborted) {
      await sleep(this.timing.renewMs, tenure.signal);
      if (tenure.signal.aborted) return;
      if (await this.ask()) {
        renewedAt = Date.now();
        continue;
      }
      // Held by another, or unanswered for so long that it may have run out: stop.
      if (this.holder !== '' && this.holder !== this.owner) {
        this.logger.warn({ lease: this.name, holder: this.holder }, `lease: ${this.name} lost to ${this.holder}`);
        tenure.abort();
      } else if (Date.now() - renewedAt >= this.timing.ttlMs - this.timing.renewMs) {
        this.logger.warn({ lease: this.name }, `lease: ${this.name} could not be renewed; stopping`);
        tenure.abort();
      }
    }
  }
}
