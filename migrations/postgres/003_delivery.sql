-- Delivery (docs/delivery.md), as migrations/sqlite/004: outgoing webhook subscriptions, their outbox, every attempt,
-- and the NATS JetStream sink's cursor.

-- Webhook subscriptions, from the config (origin 'config', synchronised at each start) or the API.
CREATE TABLE subscriptions (
  id              TEXT PRIMARY KEY,
  origin          TEXT NOT NULL,              -- 'config' | 'api'
  url             TEXT NOT NULL,
  filters         TEXT NOT NULL,              -- JSON { types?: [pattern], platform?, subject? }
  mode            TEXT NOT NULL,              -- 'structured' | 'binary'
  ordered         INTEGER NOT NULL,           -- 1: per subject, later events wait for earlier ones
  secrets         TEXT NOT NULL,              -- JSON [{ secret: "whsec_…", expiresAt: ISO | null }], signing secret first
  description     TEXT,
  enabled         INTEGER NOT NULL,
  disabled_reason TEXT,
  disabled_at     TEXT,
  failing_since   TEXT,                       -- first failed attempt since the last success
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);

-- The outbox: one row per (subscription, event), inserted in the commit transaction of the
-- event, so that no committed event can miss its delivery. A replay sets a row pending again.
CREATE TABLE delivery_outbox (
  did             BIGSERIAL PRIMARY KEY,
  subscription_id TEXT NOT NULL,
  seq             BIGINT NOT NULL,            -- events.seq
  event_id        TEXT NOT NULL,
  subject         TEXT NOT NULL,
  status          TEXT NOT NULL,              -- 'pending' | 'delivered' | 'failed' (retries exhausted)
  attempts        INTEGER NOT NULL DEFAULT 0, -- attempts in the current round
  rounds          INTEGER NOT NULL DEFAULT 1, -- 1 + the number of replays
  next_at         BIGINT NOT NULL,            -- epoch ms of the next attempt (pending rows)
  last_status     INTEGER,                    -- HTTP status of the last attempt, NULL without an answer
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  delivered_at    TEXT,
  -- Several instances share the outbox: an instance claims the due rows it sends (FOR UPDATE
  -- SKIP LOCKED) until claim_until (epoch ms); recording the attempt ends the claim. A claim of an
  -- instance that died runs out, and another instance sends the row again.
  claimed_by      TEXT,
  claim_until     BIGINT,
  UNIQUE (subscription_id, seq)
);
CREATE INDEX delivery_outbox_due ON delivery_outbox (subscription_id, next_at) WHERE status = 'pending';
CREATE INDEX delivery_outbox_subject ON delivery_outbox (subscription_id, subject, seq) WHERE status = 'pending';
CREATE INDEX delivery_outbox_next ON delivery_outbox (next_at) WHERE status = 'pending';
CREATE INDEX delivery_outbox_list ON delivery_outbox (subscription_id, status, did);
CREATE INDEX delivery_outbox_prune ON delivery_outbox (status, updated_at);

-- Every attempt: when, how long, the HTTP status or the error.
CREATE TABLE delivery_attempts (
  aid             BIGSERIAL PRIMARY KEY,
  did             BIGINT NOT NULL,
  subscription_id TEXT NOT NULL,
  round           INTEGER NOT NULL,
  attempt         INTEGER NOT NULL,
  started_at      TEXT NOT NULL,
  duration_ms     INTEGER NOT NULL,
  status          INTEGER,
  error           TEXT,
  result          TEXT NOT NULL               -- 'delivered' | 'failed' | 'exhausted' | 'gone'
);
CREATE INDEX delivery_attempts_did ON delivery_attempts (did, aid);
CREATE INDEX delivery_attempts_subscription ON delivery_attempts (subscription_id, aid);

-- Positions of sinks that follow the event log (the NATS JetStream publisher): the greatest
-- sequence acknowledged by the sink.
CREATE TABLE sink_cursors (
  name       TEXT PRIMARY KEY,
  seq        BIGINT NOT NULL,
  updated_at TEXT NOT NULL
);
