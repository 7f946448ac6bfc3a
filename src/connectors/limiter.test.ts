import { describe, expect, it } from 'vitest';
import { IntervalGate } from './limiter.js';

describe('IntervalGate', () => {
  it('lets callers through one at a time, at least the interval apart', async () => {
    const gate = new IntervalGate(50);
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 5 }, () => gate.pass().then(() => starts.push(performance.now()))));
    for (let i = 1; i < starts.length; i++) expect((starts[i] as number) - (starts[i - 1] as number)).toBeGreaterThanOrEqual(45);
  });

  it('an aborted caller rejects and does not hold up the next', async () => {
    const gate = new IntervalGate(100);
    await gate.pass();
    const abort = new AbortController();
    const gaveUp = gate.pass(abort.signal);
    abort.abort(new Error('stop'));
    await expect(gaveUp).rejects.toThrow('stop');
    const t0 = performance.now();
    await gate.pass();
    expect(performance.now() - t0).toBeLessThan(150);
  });
});
