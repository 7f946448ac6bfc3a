/**
 * `switchboard migrate --to postgres://… [--data DIR]`: copies a SQLite store into PostgreSQL —
 * the event log (each event with its own sequence, so stream positions stay valid), the
 * quarantine, the subscriptions with their secrets, the connectors' cursors and kv — then brings
 * the projections up to date there. Events go in chunks, each one transaction. Interrupted, the
 * command resumes after the last event the target holds. Pending deliveries are not copied.
 */
import { Presets, SingleBar } from 'cli-progress';
import { SwitchboardError } from '../core/index.js';
import { maskUrl } from '../core/secrets.js';
import { PostgresStore } from '../server/store/postgres/index.js';
import { SqliteStore, SQLITE_OFFLINE_BUSY_TIMEOUT_MS } from '../server/store/sqlite/index.js';
import type { QuarantineEntry } from '../server/store/types.js';

export interface MigrateOptions {
  /** The SQLite database file. */
  readonly from: string;
  /** The PostgreSQL URL. */
  readonly to: string;
  readonly progress: boolean;
  /** Events per transaction (default 5,000). */
  readonly chunk?: number;
}

export interface MigrateCounts {
  readonly events: number;
  readonly eventsBefore: number;
  readonly quarantine: number;
  readonly subscriptions: number;
  readonly cursors: number;
  readonly kv: number;
  readonly projections: number;
  readonly seconds: number;
}

export async function migrate(opts: MigrateOptions, out: NodeJS.WritableStream = process.stderr): Promise<MigrateCounts> {
  const started = Date.now();
  const source = new SqliteStore({ path: opts.from, writer: 'inline' });
  const target = new PostgresStore({ url: opts.to, poolSize: 2 });
  await source.open({ busyTimeoutMs: SQLITE_OFFLINE_BUSY_TIMEOUT_MS });
  try {
    await target.open();
    // Resume after what the target holds, if it holds this store's events (not others').
    const after = await target.latestSequence();
    if (after > 0) {
      const [last] = await target.queryEvents({ newestFirst: true, limit: 1 });
      const same = last && (await source.getEvent(last.id));
      if (!last || !same || same.seq !== last.seq) {
        throw new SwitchboardError('SB_ERR_CONFIG_INVALID', `the target ${maskUrl(opts.to)} holds events that are not this store's (its sequence ${after}); migrate into an empty database`);
      }
      out.write(`migrate: resuming after sequence ${after}\n`);
    }
    const total = await source.latestSequence();
    const bar = new SingleBar(
      { format: 'migrate |{bar}| {percentage}% | sequence {value} of {total} | {copied} events copied | {eta_formatted} left', noTTYOutput: true, notTTYSchedule: 2000, stream: out, hideCursor: true },
      Presets.shades_classic,
    );
    if (opts.progress) bar.start(total, after, { copied: 0 });
    let copied = 0;
    const chunk = opts.chunk ?? 5000;
    for (let position = after; ; ) {
      const rows = await source.exportEvents(position, chunk);
      if (rows.length === 0) break;
      copied += await target.importEvents(rows);
      position = (rows[rows.length - 1] as { seq: number }).seq;
      if (opts.progress) bar.update(position, { copied });
    }
    if (opts.progress) bar.stop();

    // The rest is small and idempotent: copied again on every run.
    const quarantine: QuarantineEntry[] = [];
    for (let q = 0; ; ) {
      const page = await source.listQuarantine({ after: q, limit: 1000 });
      if (page.length === 0) break;
      quarantine.push(...page);
      q = Number(page[page.length - 1]?.id);
    }
    const cursors = await source.exportCursors();
    const kv = await source.exportKv();
    await target.importState({ quarantine, cursors, kv });
    const subscriptions = await source.delivery.list();
    const existing = new Set((await target.delivery.list()).map((s) => s.id));
    for (const sub of subscriptions) if (!existing.has(sub.id)) await target.delivery.put(sub);

    out.write('migrate: bringing the projections up to date…\n');
    const projections = await target.projections.catchUp({});
    return { events: copied, eventsBefore: after, quarantine: quarantine.length, subscriptions: subscriptions.length, cursors: cursors.length, kv: kv.length, projections, seconds: (Date.now() - started) / 1000 };
  } finally {
    await target.close();
    await source.close();
  }
}
