/**
 * A preload for ceiling measurements only (`node --import ./bench/no-storage.mjs dist/cli/main.js …`):
 * the built SQLite store's `commit` stores nothing and answers at once, as if every event were
 * new, with sequences counted in memory. Everything else of Switchboard runs as shipped — HTTP,
 * authentication, validation, normalization, event ids, serialization, the group committer, the
 * live window and the SSE fan-out — so a run with it measures what the server costs without any
 * storage: the ceiling that no storage engine can lift. See bench/ceiling.mjs.
 */
import { SqliteStore } from '../dist/server/store/sqlite/index.js';
import { withSequence } from '../dist/server/store/types.js';

let seq = 0;
SqliteStore.prototype.commit = async function commit(batches) {
  return batches.map((b) => ({
    stored: b.events.map((e, j) => {
      seq += 1;
      return { seq, id: e.id, type: e.type, json: withSequence(b.bodies?.[j] ?? JSON.stringify(e), seq) };
    }),
    quarantineIds: b.quarantine.map(() => `no-storage-${(seq += 1)}`),
  }));
};
