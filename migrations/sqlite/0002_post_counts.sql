-- The reply rate limit shared by every instance on one database: posts per
-- client per fixed window (its start in milliseconds since the epoch),
-- counted atomically by an upsert. Rows older than the previous window are
-- deleted every minute, so a client's address is kept no longer than the
-- limit needs it.
CREATE TABLE post_counts (
    client       TEXT    NOT NULL,
    window_start BIGINT  NOT NULL,
    posts        INTEGER NOT NULL,
    PRIMARY KEY (client, window_start)
);
