-- Incremental projections: each row keeps the state of its fold (JSON: the fold's state and the
-- caller names it looked up), so that a new event that goes after all of the entity's events in
-- canonical order is folded into it instead of re-reading the entity's events. NULL (rows from
-- before this migration, and rows whose entity waits for a catch-up) means "recompute from the log".
ALTER TABLE calls ADD COLUMN fold TEXT;
ALTER TABLE conversations ADD COLUMN fold TEXT;
ALTER TABLE operators ADD COLUMN fold TEXT;
