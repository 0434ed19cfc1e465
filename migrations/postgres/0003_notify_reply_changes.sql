-- Every change to a stored reply (a moderator's decision, a deletion) is
-- announced on channel `relief_replies` with the reply's article, in the
-- transaction that makes it: every replica LISTENs and drops its cached
-- replies, whichever replica (or hand-written SQL) made the change.
CREATE FUNCTION relief_notify_reply_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('relief_replies', OLD.article);
    ELSE
        PERFORM pg_notify('relief_replies', NEW.article);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER replies_changed
    AFTER UPDATE OR DELETE ON replies
    FOR EACH ROW EXECUTE FUNCTION relief_notify_reply_change();
