-- Replies to articles, held for moderation, and the idempotency keys of the
-- POSTs that created them. Times are milliseconds since the Unix epoch, UTC.
CREATE TABLE replies (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    article      TEXT    NOT NULL,
    parent_id    INTEGER REFERENCES replies (id) ON DELETE SET NULL,
    author_name  TEXT    NOT NULL,
    author_email TEXT,
    body         TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'approved', 'rejected', 'spam')),
    client_addr  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE INDEX replies_by_article ON replies (article, status, id);
CREATE INDEX replies_by_status ON replies (status, id);
CREATE INDEX replies_by_parent ON replies (parent_id);

CREATE TABLE idempotency_keys (
    key         TEXT    PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    reply_id    INTEGER NOT NULL,
    article     TEXT    NOT NULL,
    reply_created_at INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
