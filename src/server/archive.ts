/**
 * The archive retention writes before it removes (docs/privacy.md): the removed events as NDJSON,
 * gzip-compressed, by UTC day of their `receivedAt`.
 * - In a folder only this user can read: one file per day, `events-2026-06-01.ndjson.gz`. Each
 *   chunk of a pass is appended as a gzip member of its own (a file of several members is one
 *   gzip stream to `gunzip` and to zlib) and flushed to disk before the events are removed.
 * - In an S3-compatible bucket (`@aws-sdk/client-s3`, loaded only then): objects cannot be
 *   appended to, so each chunk is an object of its own under the day,
 *   `<prefix>events-2026-06-01/<first>-<last>.ndjson.gz` (sequences), stored before the events are
 *   removed.
 * A crash in between archives a chunk twice; `switchboard replay --archive` keeps each event once
 * (by its id).
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isPlatform, jsonSyntaxMessage, validateEvent, ValidationError, type SwitchboardEvent } from '../core/index.js';
import { PRIVATE_FILE_MODE, privateDir } from './private-files.js';

export interface ArchivedEvent {
  readonly seq: number;
  readonly receivedAt: string;
  /** The CloudEvent as the API shows it (with `sequence`). */
  readonly json: string;
}

/** Where an archive goes: written (durably) before the events are removed. */
export interface ArchiveTarget {
  /** For the log: the folder, or s3://bucket/prefix. */
  readonly where: string;
  /** Writes the events; answers the files or objects written. */
  write(events: readonly ArchivedEvent[]): Promise<string[]>;
}

/** The events' lines grouped by the UTC day of their receipt. */
function byDay(events: readonly ArchivedEvent[]): Map<string, ArchivedEvent[]> {
  const out = new Map<string, ArchivedEvent[]>();
  for (const e of events) {
    const day = new Date(e.receivedAt).toISOString().slice(0, 10);
    let list = out.get(day);
    if (!list) out.set(day, (list = []));
    list.push(e);
  }
  return out;
}

const gzipLines = (events: readonly ArchivedEvent[]) => gzipSync(`${events.map((e) => e.json).join('\n')}\n`);

export class FolderArchive implements ArchiveTarget {
  constructor(readonly folder: string) {}

  get where(): string {
    return this.folder;
  }

  /** The file of a UTC day. */
  fileOf(day: string): string {
    return join(this.folder, `events-${day}.ndjson.gz`);
  }

  /** Appends the events to their day's files and flushes them to disk; answers the files written. */
  async write(events: readonly ArchivedEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    privateDir(this.folder);
    const files: string[] = [];
    for (const [day, list] of byDay(events)) {
      const file = this.fileOf(day);
      const fd = openSync(file, 'a', PRIVATE_FILE_MODE);
      try {
        writeSync(fd, gzipLines(list));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      files.push(file);
    }
    // A new file's name is durable once its folder is flushed too.
    const dir = openSync(this.folder, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return files;
  }
}

export interface S3ArchiveConfig {
  readonly bucket: string;
  /** Prepended to every key, e.g. `switchboard/` (default none). */
  readonly prefix: string;
  /** An S3-compatible endpoint (MinIO, Ceph, Yandex Object Storage, …); absent: AWS. */
  readonly endpoint?: string | undefined;
  readonly region: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers want (default true with an endpoint). */
  readonly forcePathStyle?: boolean | undefined;
  /** Absent: the AWS SDK's own chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, a role). */
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
}

export class S3Archive implements ArchiveTarget {
  private client: Promise<{ put(key: string, body: Uint8Array): Promise<void> }> | undefined;

  constructor(private readonly config: S3ArchiveConfig) {}

  get where(): string {
    return `s3://${this.config.bucket}/${this.config.prefix}`;
  }

  /** The object of a chunk's events of one day. */
  keyOf(day: string, events: readonly ArchivedEvent[]): string {
    const seqs = events.map((e) => e.seq);
    return `${this.config.prefix}events-${day}/${String(Math.min(...seqs)).padStart(16, '0')}-${String(Math.max(...seqs)).padStart(16, '0')}.ndjson.gz`;
  }

  private connect(): Promise<{ put(key: string, body: Uint8Array): Promise<void> }> {
    this.client ??= (async () => {
      const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
      const c = this.config;
      const client = new S3Client({
        region: c.region,
        ...(c.endpoint ? { endpoint: c.endpoint } : {}),
        forcePathStyle: c.forcePathStyle ?? c.endpoint !== undefined,
        ...(c.accessKeyId && c.secretAccessKey ? { credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } } : {}),
      });
      return {
        put: async (key: string, body: Uint8Array) => {
          await client.send(new PutObjectCommand({ Bucket: c.bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
        },
      };
    })();
    return this.client;
  }

  /** Stores each day's events of the chunk as an object; answers the keys. */
  async write(events: readonly ArchivedEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const client = await this.connect();
    const keys: string[] = [];
    for (const [day, list] of byDay(events)) {
      const key = this.keyOf(day, list);
      await client.put(key, gzipLines(list));
      keys.push(key);
    }
    return keys;
  }
}

const SOURCE_RE = /^switchboard\/([a-z0-9-]+)\/(.+)$/;

/**
 * One line of an archive as the event to store again: the CloudEvent without its `sequence` (the
 * store gives it a new one), and its connector (from `source`). Throws naming what is wrong.
 */
export function parseArchivedLine(line: string): { connectorId: string; event: SwitchboardEvent } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new ValidationError('SB_ERR_INGEST_MALFORMED', `malformed JSON: ${jsonSyntaxMessage(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('SB_ERR_INGEST_MALFORMED', 'not a CloudEvent: expected a JSON object');
  const o = { ...(value as Record<string, unknown>) };
  delete o.sequence;
  for (const key of ['specversion', 'id', 'source', 'type', 'subject', 'time'] as const) {
    if (typeof o[key] !== 'string' || o[key] === '') throw new ValidationError('SB_ERR_EVENT_INVALID', `not a Switchboard event: expected a string "${key}"`);
  }
  const m = SOURCE_RE.exec(o.source as string);
  if (!m || !isPlatform(m[1] ?? '')) throw new ValidationError('SB_ERR_EVENT_INVALID', `not a Switchboard event: source ${JSON.stringify(o.source)} is not switchboard/<platform>/<connector>`);
  const event = o as unknown as SwitchboardEvent;
  validateEvent(event);
  return { connectorId: m[2] as string, event };
}
