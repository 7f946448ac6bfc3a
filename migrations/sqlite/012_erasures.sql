-- Erasures on request (docs/privacy.md): one row per request, with who asked and when, what was
-- removed, and — only while it runs, so that it resumes after a crash — the identifier it looks
-- for (`term`, cleared when it ends: the record keeps no trace of the person, not even a hash,
-- which a phone number's few digits would make easy to reverse).
CREATE TABLE erasures (
  id           TEXT PRIMARY KEY,
  kind         TEXT NOT NULL,            -- 'phone' | 'userId' | 'contactId'
  term         TEXT,                     -- NULL once done
  requested_by TEXT NOT NULL,
  reason       TEXT,
  requested_at TEXT NOT NULL,
  finished_at  TEXT,
  status       TEXT NOT NULL,            -- 'running' | 'done'
  phase        TEXT NOT NULL,            -- 'events' | 'rest' | 'done'
  cursor       INTEGER NOT NULL DEFAULT 0, -- the greatest sequence the events phase has looked at
  counts       TEXT NOT NULL             -- JSON ErasureCounts
);
-- Secure deletion is set on the writer's connection (overwrites removed content in the file).
