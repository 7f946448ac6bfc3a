-- Message counts per conversation, kept by increments (sums, min and max do not depend on the
-- order of arrival), so that a conversation's projection does not rescan its messages.
CREATE TABLE conversation_counts (
  connector_id    TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  inbound         INTEGER NOT NULL DEFAULT 0,
  outbound        INTEGER NOT NULL DEFAULT 0,
  first_at        TEXT NOT NULL,
  last_at         TEXT NOT NULL,
  platform        TEXT NOT NULL,
  client          TEXT, -- the least (as text) client party seen on a message, as JSON
  PRIMARY KEY (connector_id, conversation_id)
);

-- A conversation's state events without scanning its messages.
CREATE INDEX events_subject_type ON events (subject, type);
