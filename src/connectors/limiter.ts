/**
 * A minimal-interval gate: callers pass one at a time, each at least `intervalMs` after the
 * previous one started. Used for per-instance platform rate limits (GREEN-API: 1 s between
 * getContactInfo calls, 10 ms between receive/delete calls for 100 requests/s).
 */
export class IntervalGate {
  private next = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private interval: number,
    private readonly now: () => number = Date.now,
  ) {}

  get intervalMs(): number {
    return this.interval;
  }

  /** Lengthens the interval (never shortens it): the strictest of several users wins. */
  atLeast(intervalMs: number): this {
    this.interval = Math.max(this.interval, intervalMs);
    return this;
  }

  /** Resolves when the caller may start; rejects with the signal's reason when aborted first. */
  pass(signal?: AbortSignal): Promise<void> {
    const turn = this.tail.then(() => this.waitTurn(signal));
    // A caller that gave up does not block the ones behind it.
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private waitTurn(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const go = () => {
        signal?.removeEventListener('abort', stop);
        this.next = this.now() + this.interval;
        resolve();
      };
      const wait = this.next - this.now();
      const timer = wait > 0 ? setTimeout(go, wait) : undefined;
      const stop = () => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      if (timer === undefined) go();
      else signal?.addEventListener('abort', stop, { once: true });
    });
  }
}

/** One gate per key (e.g. per GREEN-API instance), shared by every user in the process. */
export class GateRegistry {
  private readonly gates = new Map<string, IntervalGate>();
  constructor(private readonly intervalMs: number) {}
  /** The key's gate; `intervalMs` lengthens it when this user asks for a slower pace. */
  for(key: string, intervalMs = this.intervalMs): IntervalGate {
    let g = this.gates.get(key);
    if (!g) {
      g = new IntervalGate(intervalMs);
      this.gates.set(key, g);
    }
    return g.atLeast(intervalMs);
  }
}
