-- Events: the log. `seq` is the store's sequence; `id` the deterministic dedupe key.
CREATE TABLE events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE,
  type         TEXT NOT NULL,
  platform     TEXT NOT NULL,
  connector_id TEXT NOT NULL,
  subject      TEXT NOT NULL,
  time         TEXT NOT NULL,
  received_at  TEXT NOT NULL,
  body         TEXT NOT NULL -- the CloudEvent as JSON, without `sequence`
);
CREATE INDEX events_type ON events (type, seq);
CREATE INDEX events_subject ON events (subject, seq);
CREATE INDEX events_platform ON events (platform, seq);
CREATE INDEX events_connector ON events (connector_id, seq);

-- Input that could not be read or normalized, kept with the reason.
CREATE TABLE quarantine (
  qid          INTEGER PRIMARY KEY AUTOINCREMENT,
  connector_id TEXT NOT NULL,
  received_at  TEXT NOT NULL,
  code         TEXT NOT NULL,
  reason       TEXT NOT NULL,
  content_type TEXT,
  raw          TEXT NOT NULL
);
CREATE INDEX quarantine_connector ON quarantine (connector_id, qid);

-- Resume points of pulled sources, saved in the same transaction as their events.
CREATE TABLE cursors (
  connector_id TEXT PRIMARY KEY,
  cursor       TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
