/**
 * The fixture files of the connectors (`src/connectors/<platform>/fixtures/*.json`): one native
 * payload and the events it must give, compared as the envelope fields and `data` without `native`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import type { SwitchboardEvent } from '../../src/core/index.js';

const expectedSchema = z.array(
  z.strictObject({
    type: z.string(),
    subject: z.string(),
    time: z.string(),
    nativetype: z.string(),
    data: z.record(z.string(), z.unknown()),
  }),
);

export interface Fixture<P = unknown> {
  readonly file: string;
  readonly description: string;
  readonly payload: P;
  readonly expected: z.infer<typeof expectedSchema>;
}

/** Reads every fixture of a folder, sorted by file name; `payload` checks the payload's shape. */
export function loadFixtures<P = unknown>(dir: URL, payload: z.ZodMiniType<P> = z.unknown() as z.ZodMiniType<P>): Fixture<P>[] {
  const schema = z.strictObject({ description: z.string(), payload, expected: expectedSchema });
  const path = fileURLToPath(dir);
  return readdirSync(path)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ ...(schema.parse(JSON.parse(readFileSync(path + file, 'utf8'))) as Omit<Fixture<P>, 'file'>), file }));
}

/** What a fixture compares: the envelope fields and `data` without `native`. */
export function comparable(e: SwitchboardEvent) {
  const { native: _native, ...data } = e.data as Record<string, unknown>;
  return { type: e.type, subject: e.subject, time: e.time, nativetype: e.nativetype, data };
}

/** Deep copy, so that a "redelivery" is a different object with the same content. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Reads fixtures by name (the file without `.json`): a fresh deep copy of the payload, as `T`, each time. */
export function payloadReader<T>(fixtures: readonly Fixture[]): (name: string) => T {
  return (name) => {
    const f = fixtures.find((x) => x.file === `${name}.json`);
    if (!f) throw new Error(`no fixture ${name}`);
    return clone(f.payload) as T;
  };
}
