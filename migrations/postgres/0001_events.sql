-- The append-only event log. Positions are assigned by the sequencer, one
-- transaction at a time under a transaction-scoped advisory lock, so they are
-- gap-free and commit in order. Payload and metadata are `json` (not `jsonb`)
-- so the stored text is exactly the canonical bytes that were hashed.
CREATE TABLE events (
    position       BIGINT      PRIMARY KEY CHECK (position > 0),
    event_id       UUID        NOT NULL UNIQUE,
    stream_id      TEXT        NOT NULL CHECK (length(stream_id) > 0),
    stream_version BIGINT      NOT NULL CHECK (stream_version > 0),
    event_type     TEXT        NOT NULL,
    schema_version INTEGER     NOT NULL,
    payload        JSON        NOT NULL,
    metadata       JSON        NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL,
    leaf_hash      BYTEA       NOT NULL CHECK (length(leaf_hash) = 32),
    UNIQUE (stream_id, stream_version)
);

CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_refuse_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
