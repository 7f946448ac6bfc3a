-- Small persistent state of connectors (e.g. the GREEN-API caller-name cache).
CREATE TABLE connector_kv (
  connector_id TEXT NOT NULL,
  namespace    TEXT NOT NULL,
  key          TEXT NOT NULL,
  value        TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (connector_id, namespace, key)
);
