import { expect, it } from 'vitest';
import { ByteBudget } from './budget.js';

it('holds bytes up to the budget, lets one request alone exceed it, and gives everything back once', () => {
  const seen: number[] = [];
  const budget = new ByteBudget(100, (n) => seen.push(n));
  const a = budget.hold();
  const b = budget.hold();
  expect(a.take(60)).toBe(true);
  expect(b.take(50)).toBe(false); // 110 > 100 while a holds 60
  expect(b.take(40)).toBe(true);
  expect(budget.inFlight).toBe(100);
  a.release();
  a.release();
  expect(budget.inFlight).toBe(40);
  expect(b.take(500)).toBe(true); // alone: taken
  b.release();
  expect(budget.inFlight).toBe(0);
  expect(b.take(1)).toBe(false); // released holds take nothing more
  expect(seen).toEqual([60, 100, 40, 540, 0]);
});
