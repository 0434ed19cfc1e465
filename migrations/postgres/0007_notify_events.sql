-- Every statement that writes events to the outbox is announced on channel
-- `relief_events`, in its transaction: every replica LISTENs and looks at
-- the outbox at once (its live stream, its webhook deliveries), rather than
-- at its next look. Replies' changes are announced on `relief_replies`
-- (0003); an event that comes with none (a content change recorded by
-- another replica, a reply submitted there) was found only by that look.
CREATE FUNCTION relief_notify_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('relief_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_written
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION relief_notify_events();
