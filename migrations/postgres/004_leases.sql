-- Leases: what one instance at a time may run when several share the store — a pulled connector
-- (GREEN-API polling, TWIN), the NATS sink. The holder renews its lease well before it runs out;
-- when it dies, the lease runs out and another instance takes it. Times are the database's clock,
-- so that the instances' clocks need not agree.
CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
