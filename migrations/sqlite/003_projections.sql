-- Projections (DESIGN §3), recomputed in the commit transaction of their events.
-- `body` holds the projected row as JSON; the other columns serve filters and lookups.
CREATE TABLE calls (
  rid             INTEGER PRIMARY KEY AUTOINCREMENT,
  connector_id    TEXT NOT NULL,
  call_id         TEXT NOT NULL,
  platform        TEXT NOT NULL,
  state           TEXT NOT NULL,
  outcome         TEXT,
  started_at      TEXT,
  conversation_id TEXT,
  parties         TEXT NOT NULL, -- ' id phone … ': party ids and phones, space-delimited, for the party filter
  body            TEXT NOT NULL,
  UNIQUE (connector_id, call_id)
);
CREATE INDEX calls_conversation ON calls (connector_id, conversation_id);
CREATE INDEX calls_started ON calls (started_at);

CREATE TABLE conversations (
  rid              INTEGER PRIMARY KEY AUTOINCREMENT,
  connector_id     TEXT NOT NULL,
  conversation_id  TEXT NOT NULL,
  platform         TEXT NOT NULL,
  state            TEXT NOT NULL,
  client_id        TEXT,
  last_activity_at TEXT,
  body             TEXT NOT NULL,
  UNIQUE (connector_id, conversation_id)
);
CREATE INDEX conversations_client ON conversations (connector_id, client_id);

CREATE TABLE operators (
  rid          INTEGER PRIMARY KEY AUTOINCREMENT,
  connector_id TEXT NOT NULL,
  operator_id  TEXT NOT NULL,
  platform     TEXT NOT NULL,
  status       TEXT NOT NULL,
  body         TEXT NOT NULL,
  UNIQUE (connector_id, operator_id)
);
