/**
 * How the store reaches its writer (`writer.ts`): on a worker thread (`ThreadWriterLink`) or in
 * its own thread (`InlineWriterLink`). Both answer `call(method, args)` with the writer's result or
 * reject with a `StoreError` of the writer's failure kind; both deliver calls in order.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { StoreError } from '../../../core/index.js';
import { SqliteWriter, fromWireError, toWireError, type WireError, type WriterOpenOptions } from './writer.js';

export interface WriterRequest {
  readonly id: number;
  readonly method: string;
  readonly args: readonly unknown[];
}

interface WriterAnswer {
  readonly id: number;
  readonly value?: unknown;
  readonly error?: WireError;
}

export interface WriterLink {
  /** `thread` or `inline`. */
  readonly mode: 'thread' | 'inline';
  call(method: string, args: readonly unknown[]): Promise<unknown>;
  /** The failure that stopped the writer for good (its thread died), if any. */
  readonly dead: StoreError | undefined;
  /** Waits for the calls in flight, closes the writer's connection and ends the thread. */
  close(): Promise<void>;
}

/** The writer in the caller's thread, on the caller's connection (`:memory:`, `.ts` sources). */
export class InlineWriterLink implements WriterLink {
  readonly mode = 'inline';
  readonly dead = undefined;
  readonly writer = new SqliteWriter();

  constructor(db: Database.Database, firstDelayMs: number | undefined) {
    this.writer.attach(db, firstDelayMs);
  }

  async call(method: string, args: readonly unknown[]): Promise<unknown> {
    try {
      return await this.writer.call(method, args);
    } catch (err) {
      throw fromWireError(toWireError(method, err));
    }
  }

  async close(): Promise<void> {
    this.writer.close();
  }
}

/** The writer thread's young generation, in MiB (V8's `maxYoungGenerationSizeMb`), while serving. */
export const WRITER_YOUNG_GENERATION_MB = 4;
/**
 * … and in a bulk load, whose commits of thousands of events each would otherwise spend ~15% of
 * the writer's time in garbage collection (bench/profile.mjs b2); memory is no target there.
 */
export const BULK_WRITER_YOUNG_GENERATION_MB = 48;

/** The writer on a worker thread with its own connection. */
export class ThreadWriterLink implements WriterLink {
  readonly mode = 'thread';
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private closing = false;
  private stopped: StoreError | undefined;
  private exited: Promise<void>;

  private constructor(url: URL, youngGenerationMb: number) {
    // A small young generation: the writer's garbage is short-lived (one commit's parsed events
    // and rows), and V8's default (up to 3 × 16 MiB per isolate) added ~50 MB to the peak RSS
    // under load without making commits faster (bench/README.md, "Memory").
    this.worker = new Worker(url, { resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } });
    this.worker.unref();
    this.worker.on('message', (m: WriterAnswer) => this.answer(m));
    let lastError: unknown;
    this.worker.on('error', (err) => {
      lastError = err;
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        const why = lastError instanceof Error ? `: ${lastError.message}` : '';
        this.stopped ??= this.closing
          ? new StoreError('the store is closed', { closed: true })
          : new StoreError(`the SQLite writer thread stopped (exit code ${code})${why}; nothing more can be written until the server restarts`, { kind: 'io', cause: lastError });
        const pending = [...this.pending.values()];
        this.pending.clear();
        for (const p of pending) p.reject(this.stopped);
        resolve();
      });
    });
  }

  /** Starts the thread and opens its connection. */
  static async start(url: URL, options: WriterOpenOptions, youngGenerationMb = WRITER_YOUNG_GENERATION_MB): Promise<ThreadWriterLink> {
    const link = new ThreadWriterLink(url, youngGenerationMb);
    try {
      await link.call('open', [options]);
    } catch (err) {
      await link.worker.terminate();
      throw err;
    }
    return link;
  }

  get dead(): StoreError | undefined {
    return this.closing ? undefined : this.stopped;
  }

  call(method: string, args: readonly unknown[]): Promise<unknown> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (this.closing && method !== 'close') return Promise.reject(new StoreError('the store is closed', { closed: true }));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Keeps the process alive while a call is in flight, not while the writer idles.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ id, method, args } satisfies WriterRequest);
      } catch (err) {
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
        reject(new StoreError(`cannot hand ${method} to the SQLite writer: ${err instanceof Error ? err.message : String(err)}`, { kind: 'batch', cause: err }));
      }
    });
  }

  private answer(m: WriterAnswer): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.error) p.reject(fromWireError(m.error));
    else p.resolve(m.value);
  }

  async close(): Promise<void> {
    if (this.closing) return this.exited;
    // Calls in flight are answered first: the thread takes them in order, `close` last.
    this.closing = true;
    if (!this.stopped) {
      try {
        await this.call('close', []);
      } catch {
        // the thread is gone or its connection failed to close: it is ended below either way
      }
    }
    await this.worker.terminate();
    await this.exited;
  }
}
