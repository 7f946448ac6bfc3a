-- Entities whose projections wait for a catch-up: bulk loads (`switchboard replay`) record the
-- entities their events concern in the commit transaction, and recompute each once at the end
-- (`ProjectionStore.catchUp`) instead of once per commit. A row left by a crash is done by the
-- next catch-up (the replay's, or the server's at start). `seq` is the entity's first event of
-- the load: the catch-up goes in that order, so that an entity's events are read from pages the
-- previous entities' reads brought into the cache.
CREATE TABLE projection_pending (
  connector_id TEXT NOT NULL,
  kind         TEXT NOT NULL, -- call | conversation | operator | client
  entity       TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  PRIMARY KEY (connector_id, kind, entity)
) WITHOUT ROWID;
CREATE INDEX projection_pending_seq ON projection_pending (seq);
