-- The first inbound and the first outbound message of each conversation (kept by min() like the
-- other counts), for the chat KPIs of GET /v1/stats: first-response time. Rows counted before this
-- migration get them from `switchboard rebuild`.
ALTER TABLE conversation_counts ADD COLUMN first_inbound_at TEXT;
ALTER TABLE conversation_counts ADD COLUMN first_outbound_at TEXT;
