/**
 * The canonical order of one entity's events, shared by every fold (the server's projections and
 * the browser module's calls) so that they agree on what happened last.
 */

/** What the order reads of an event: a normalized event or a stored one. */
export interface OrderedEventLike {
  readonly id: string;
  readonly type: string;
  readonly time: string;
  readonly sequence?: string | undefined;
  readonly timesource?: 'receipt' | undefined;
}

/**
 * Orders an entity's events:
 * - events with a platform time by time, then the type's `rank` (a later lifecycle phase after an
 *   earlier one at the same instant), then arrival;
 * - events whose time is only the receipt time (`timesource: "receipt"`) by arrival: each is placed
 *   right after the last event (in the order built so far) that arrived before it, so a state push
 *   without a time stays among the messages it came with instead of jumping to the receipt instant.
 *
 * Events are a set: a repeated `id` is kept once. Arrival is the store's `sequence` when every event has one, else the order of `events` (the
 * browser module hands its events in the order it heard them). The sort is stable.
 *
 * @example
 * canonicalOrder(events, { 'call.ringing': 1, 'call.ended': 8 })
 */
export function canonicalOrder<E extends OrderedEventLike>(input: readonly E[], rank: Readonly<Record<string, number>> = {}): E[] {
  // A set: a repeated id (the same event heard twice) counts once, at its first arrival.
  const seen = new Set<string>();
  const events = input.filter((e) => !seen.has(e.id) && seen.add(e.id) !== undefined);
  const bySequence = events.length > 0 && events.every((e) => e.sequence !== undefined);
  const arrival = new Map<E, string | number>(events.map((e, i) => [e, bySequence ? (e.sequence as string) : i]));
  const before = (a: E, b: E) => (arrival.get(a) as string | number) < (arrival.get(b) as string | number);
  const timed = events.filter((e) => e.timesource !== 'receipt');
  timed.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : (rank[a.type] ?? 0) - (rank[b.type] ?? 0) || (before(a, b) ? -1 : before(b, a) ? 1 : 0)));
  const untimed = events.filter((e) => e.timesource === 'receipt').sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  const out = timed;
  for (const u of untimed) {
    let at = 0;
    for (let i = out.length - 1; i >= 0; i--) {
      if (before(out[i] as E, u)) {
        at = i + 1;
        break;
      }
    }
    out.splice(at, 0, u);
  }
  return out;
}
