-- How `quarantine.raw` holds the input: NULL, the text as received (in whatever charset it came,
-- decoded); 'base64', the received bytes, base64-encoded, for a body that did not decode in its
-- declared charset (invalid UTF-8, an unknown charset).
ALTER TABLE quarantine ADD COLUMN raw_encoding TEXT;
