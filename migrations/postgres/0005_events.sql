-- The outbox: every event (content published, updated or deleted; a reply
-- submitted or approved), written in the transaction of the change it
-- announces, numbered in commit order (PostgreSQL writers take one
-- advisory lock to insert one), so that a cursor over `seq` misses none.
-- Webhooks are delivered from it; live events (GET /v1/events) read it.
CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    type       TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_by_time ON events (created_at);

-- One row: the events up to `upto` have their deliveries made.
CREATE TABLE webhook_fanout (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    upto BIGINT  NOT NULL
);
INSERT INTO webhook_fanout (id, upto) VALUES (1, 0);

-- One delivery of one event to one endpoint: pending (due at
-- next_attempt_at), delivered, or dead (given up after the last try: the
-- dead letter, kept with its last error).
CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    event_seq       BIGINT  NOT NULL,
    endpoint        TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    UNIQUE (event_seq, endpoint)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
