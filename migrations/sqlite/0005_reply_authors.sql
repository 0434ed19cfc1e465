-- Replies keep no client address: the rate limit counts posts in
-- post_counts (and in memory), whose rows go with the window. Each reply
-- has the hash of its author's edit token and the end of its edit window.
-- The indexes serve the duplicate rule (same body, same article, within a
-- day) and finding a person's replies by e-mail address.
ALTER TABLE replies DROP COLUMN client_addr;
ALTER TABLE replies ADD COLUMN edit_token_hash TEXT;
ALTER TABLE replies ADD COLUMN editable_until BIGINT;
CREATE INDEX replies_by_article_time ON replies (article, created_at);
CREATE INDEX replies_by_email ON replies (lower(author_email));
