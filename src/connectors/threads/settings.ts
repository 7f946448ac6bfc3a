/** The edna Threads connector's own keys of a `connectors[]` entry. */
import * as z from 'zod/mini';

/** The Threads keys of a `connectors[]` entry: none besides `id`, `platform` and `ingestToken`. */
export const threadsSettings = z.strictObject({});

export type ThreadsSettings = z.infer<typeof threadsSettings>;
