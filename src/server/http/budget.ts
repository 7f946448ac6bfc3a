/**
 * The byte budget of ingest (`server.maxBytesInFlight`): the bytes of request bodies being read
 * and of the batches they became, until their commit settles. Each request holds what it takes
 * — its Content-Length before its body is read, else each chunk as it arrives — and gives it all
 * back once. A request that would cross the budget while others hold some is refused (503 with
 * Retry-After); one alone may exceed it, so that a body over the budget (but within
 * `server.bodyLimit`) is still taken when nothing else is in flight.
 */
export interface BudgetHold {
  /** Takes `bytes` more; false, taking nothing, when that would cross the budget. */
  take(bytes: number): boolean;
  /** Gives back all the hold took; later calls do nothing. */
  release(): void;
}

export class ByteBudget {
  private used = 0;

  /** `onChange` hears the bytes in flight after every change (a gauge). */
  constructor(
    readonly max: number,
    private readonly onChange: (inFlight: number) => void = () => undefined,
  ) {}

  /** Bytes held now. */
  get inFlight(): number {
    return this.used;
  }

  /** A new, empty hold for one request. */
  hold(): BudgetHold {
    let held = 0;
    let released = false;
    return {
      take: (bytes) => {
        if (released) return false;
        if (this.used > held && this.used + bytes > this.max) return false;
        held += bytes;
        this.change(bytes);
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.change(-held);
        held = 0;
      },
    };
  }

  private change(bytes: number): void {
    this.used += bytes;
    this.onChange(this.used);
  }
}
