-- Projections (DESIGN §3), as migrations/sqlite/003, 005, 007, 008 and 009: recomputed in the
-- commit transaction of their events. `body` holds the projected row as JSON; the other columns
-- serve filters and lookups; `fold` the kept state of the row's fold (NULL: recompute from the
-- log). Times and the client's JSON compare as bytes (COLLATE "C"), as SQLite compares them.
CREATE TABLE calls (
  rid             BIGSERIAL PRIMARY KEY,
  connector_id    TEXT NOT NULL,
  call_id         TEXT NOT NULL,
  platform        TEXT NOT NULL,
  state           TEXT NOT NULL,
  outcome         TEXT,
  started_at      TEXT COLLATE "C",
  conversation_id TEXT,
  parties         TEXT NOT NULL, -- ' id phone … ': party ids and phones, space-delimited, for the party filter
  body            TEXT NOT NULL,
  fold            TEXT,
  UNIQUE (connector_id, call_id)
);
CREATE INDEX calls_conversation ON calls (connector_id, conversation_id);
CREATE INDEX calls_started ON calls (started_at);

CREATE TABLE conversations (
  rid              BIGSERIAL PRIMARY KEY,
  connector_id     TEXT NOT NULL,
  conversation_id  TEXT NOT NULL,
  platform         TEXT NOT NULL,
  state            TEXT NOT NULL,
  client_id        TEXT,
  last_activity_at TEXT COLLATE "C",
  body             TEXT NOT NULL,
  fold             TEXT,
  UNIQUE (connector_id, conversation_id)
);
CREATE INDEX conversations_client ON conversations (connector_id, client_id);

CREATE TABLE operators (
  rid          BIGSERIAL PRIMARY KEY,
  connector_id TEXT NOT NULL,
  operator_id  TEXT NOT NULL,
  platform     TEXT NOT NULL,
  status       TEXT NOT NULL,
  body         TEXT NOT NULL,
  fold         TEXT,
  UNIQUE (connector_id, operator_id)
);

-- Message counts per conversation, kept by increments (sums, least and greatest do not depend on
-- the order of arrival), so that a conversation's projection does not rescan its messages.
CREATE TABLE conversation_counts (
  connector_id      TEXT NOT NULL,
  conversation_id   TEXT NOT NULL,
  inbound           INTEGER NOT NULL DEFAULT 0,
  outbound          INTEGER NOT NULL DEFAULT 0,
  first_at          TEXT COLLATE "C" NOT NULL,
  last_at           TEXT COLLATE "C" NOT NULL,
  platform          TEXT NOT NULL,
  client            TEXT COLLATE "C", -- the least (as text) client party seen on a message, as JSON
  first_inbound_at  TEXT COLLATE "C",
  first_outbound_at TEXT COLLATE "C",
  PRIMARY KEY (connector_id, conversation_id)
);

-- A conversation's state events without scanning its messages.
CREATE INDEX events_subject_type ON events (subject, type);

-- Entities whose projections wait for a catch-up (bulk loads; see migrations/sqlite/007).
CREATE TABLE projection_pending (
  connector_id TEXT NOT NULL,
  kind         TEXT NOT NULL, -- call | conversation | operator | client
  entity       TEXT NOT NULL,
  seq          BIGINT NOT NULL,
  PRIMARY KEY (connector_id, kind, entity)
);
CREATE INDEX projection_pending_seq ON projection_pending (seq);
