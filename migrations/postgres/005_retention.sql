-- Retention (docs/privacy.md), as migrations/sqlite/011: the outbox rows of the events a pass
-- removes are found by sequence.
CREATE INDEX delivery_outbox_seq ON delivery_outbox (seq);
