-- Retention (docs/privacy.md): the outbox rows of the events a pass removes are found by sequence.
CREATE INDEX delivery_outbox_seq ON delivery_outbox (seq);
