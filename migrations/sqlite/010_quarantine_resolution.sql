-- What became of a quarantined input (JSON: {"action":"retried"|"discarded","at":…,"result":…}):
-- POST /v1/quarantine/:id/retry and …/discard record it; NULL while it is open.
ALTER TABLE quarantine ADD COLUMN resolution TEXT;
