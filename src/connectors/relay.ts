/**
 * Relayed payloads, as an app's relay or a platform's push posts them to `POST /ingest/<id>`:
 * shared by the simulators of the platforms that push (the call widget, edna Threads).
 */
export interface SendScenarioOptions {
  /** The full ingest URL, `http://host:port/ingest/<connectorId>`. */
  target: string;
  /** The connector's ingest token (sent as `Authorization: Bearer`). */
  token?: string;
  scenario: string;
  /** Milliseconds since the epoch for the scenario (ids, timestamps); default `Date.now()`. */
  now?: number;
  /** All messages in one JSON array instead of one request each (in order). */
  batch?: boolean;
  /** Pause between requests, ms; default 0. */
  delayMs?: number;
}

export interface SendScenarioResult {
  /** Messages sent. */
  readonly sent: number;
  readonly accepted: number;
  readonly duplicates: number;
  /** The server's reasons for refused messages. */
  readonly rejected: readonly { readonly index: number; readonly reason: string }[];
  /** The HTTP status of each request. */
  readonly statuses: readonly number[];
}

/** POSTs payloads to an ingest URL, one request each or one array, and adds up the answers. */
export async function sendPayloads(target: string, token: string | undefined, payloads: readonly unknown[], opts: { batch?: boolean; delayMs?: number } = {}): Promise<SendScenarioResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const groups = opts.batch ? [payloads] : payloads.map((p) => [p]);
  let accepted = 0;
  let duplicates = 0;
  const rejected: { index: number; reason: string }[] = [];
  const statuses: number[] = [];
  let index = 0;
  for (const group of groups) {
    if (index > 0 && opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    const res = await fetch(target, { method: 'POST', headers, body: JSON.stringify(opts.batch ? group : group[0]) });
    statuses.push(res.status);
    const body = (await res.json().catch(() => ({}))) as { accepted?: number; duplicates?: number; rejected?: { index: number; reason: string }[]; error?: { message?: string; rejected?: { index: number; reason: string }[] } };
    accepted += body.accepted ?? 0;
    duplicates += body.duplicates ?? 0;
    for (const r of body.rejected ?? body.error?.rejected ?? []) rejected.push({ index: index + r.index, reason: r.reason });
    if (res.status !== 200 && !(body.rejected ?? body.error?.rejected)?.length) rejected.push({ index, reason: body.error?.message ?? `HTTP ${res.status}` });
    index += group.length;
  }
  return { sent: payloads.length, accepted, duplicates, rejected, statuses };
}
