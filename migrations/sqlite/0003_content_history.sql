-- The history of the content, for delta sync (GET /v1/sync): what each
-- article, in each language, and each of its parts looked like when last
-- loaded (a digest of its JSON), and every change to that, numbered.
-- A sync token is a change number: "what changed since" is the changes
-- after it. Changes older than the history kept (--sync-history) are
-- deleted, and `floor` says up to which number they were: an older token
-- cannot be answered and its client must sync from scratch.

-- What each item looks like now.
CREATE TABLE content_items (
    article TEXT NOT NULL,
    lang    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    item_id TEXT NOT NULL,
    digest  TEXT NOT NULL,
    PRIMARY KEY (article, lang, kind, item_id)
);

-- Every change: an item created or changed (its new digest), or deleted
-- (no digest).
CREATE TABLE content_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    article     TEXT   NOT NULL,
    lang        TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    item_id     TEXT   NOT NULL,
    digest      TEXT,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX content_changes_by_item ON content_changes (article, lang, kind, item_id, seq);
CREATE INDEX content_changes_by_time ON content_changes (recorded_at);

-- One row: the last change number forgotten, and the history's own name
-- (set on first use): a token names it, so a token from another history
-- (a database made anew, an in-memory one restarted) is told apart.
CREATE TABLE content_history (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    floor BIGINT  NOT NULL,
    epoch TEXT
);
INSERT INTO content_history (id, floor) VALUES (1, 0);
