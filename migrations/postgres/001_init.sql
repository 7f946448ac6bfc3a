-- The PostgreSQL store's event log, quarantine, cursors and connector state: the same contract
-- as migrations/sqlite/001, 002, 006 and 010 (see src/server/store/types.ts).

-- Events: the log. `seq` is the store's sequence, assigned under a transaction-scoped advisory
-- lock (see src/server/store/postgres/index.ts, "Sequence visibility"); `id` the dedupe key.
CREATE TABLE events (
  seq          BIGINT PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE,
  type         TEXT NOT NULL,
  platform     TEXT NOT NULL,
  connector_id TEXT NOT NULL,
  subject      TEXT NOT NULL,
  time         TEXT NOT NULL,
  received_at  TEXT NOT NULL,
  body         TEXT NOT NULL -- the CloudEvent as JSON, byte for byte as serialized, without `sequence`
);
-- text_pattern_ops: the prefix filters (`type` globs, `subject` ending in `*`) use them too.
CREATE INDEX events_type ON events (type text_pattern_ops, seq);
CREATE INDEX events_subject ON events (subject text_pattern_ops, seq);
CREATE INDEX events_platform ON events (platform, seq);
CREATE INDEX events_connector ON events (connector_id, seq);

-- Input that could not be read or normalized, kept with the reason. `raw` holds the text's UTF-8
-- bytes (PostgreSQL's text cannot hold U+0000, which a quarantined body may contain);
-- `raw_encoding` 'base64': the text is base64 of bytes that did not decode.
CREATE TABLE quarantine (
  qid          BIGSERIAL PRIMARY KEY,
  connector_id TEXT NOT NULL,
  received_at  TEXT NOT NULL,
  code         TEXT NOT NULL,
  reason       TEXT NOT NULL,
  content_type TEXT,
  raw          BYTEA NOT NULL,
  raw_encoding TEXT,
  resolution   TEXT -- JSON {"action":"retried"|"discarded","at":…,"result":…}; NULL while open
);
CREATE INDEX quarantine_connector ON quarantine (connector_id, qid);

-- Resume points of pulled sources, saved in the same transaction as their events.
CREATE TABLE cursors (
  connector_id TEXT PRIMARY KEY,
  cursor       TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);

-- Small persistent state of connectors (e.g. the GREEN-API caller-name cache).
CREATE TABLE connector_kv (
  connector_id TEXT NOT NULL,
  namespace    TEXT NOT NULL,
  key          TEXT NOT NULL,
  value        TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (connector_id, namespace, key)
);
