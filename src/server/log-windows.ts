/**
 * Rate-limited logging of a repeated kind of event: the first of a key is logged at once, the rest
 * of the interval are counted, and at its end one line says how many were left out (and the next
 * interval starts after that line).
 */
export class LogWindows<K, V> {
  private readonly windows = new Map<K, { suppressed: number; last: V; readonly timer: NodeJS.Timeout }>();

  constructor(
    private readonly intervalMs: number,
    /** Logs the first event of a key's interval. */
    private readonly first: (key: K, value: V) => void,
    /** Logs how many events of a key were left out, with the last one. */
    private readonly leftOut: (key: K, last: V, suppressed: number) => void,
  ) {}

  note(key: K, value: V): void {
    const open = this.windows.get(key);
    if (open) {
      open.suppressed++;
      open.last = value;
      return;
    }
    this.first(key, value);
    this.open(key, value);
  }

  private open(key: K, last: V): void {
    const timer = setTimeout(() => this.close(key, true), this.intervalMs);
    timer.unref();
    this.windows.set(key, { suppressed: 0, last, timer });
  }

  private close(key: K, reopen: boolean): void {
    const w = this.windows.get(key);
    if (!w) return;
    clearTimeout(w.timer);
    this.windows.delete(key);
    if (w.suppressed === 0) return;
    this.leftOut(key, w.last, w.suppressed);
    if (reopen) this.open(key, w.last);
  }

  /** Logs what is still left out and stops the timers (shutdown). */
  stop(): void {
    for (const key of [...this.windows.keys()]) this.close(key, false);
  }
}
