-- The append-only event log. Positions are assigned by the sequencer, one
-- transaction at a time under BEGIN IMMEDIATE, so they are gap-free.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY CHECK (position > 0),
    event_id       TEXT    NOT NULL UNIQUE,
    stream_id      TEXT    NOT NULL CHECK (length(stream_id) > 0),
    stream_version INTEGER NOT NULL CHECK (stream_version > 0),
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT    NOT NULL CHECK (json_valid(payload)),
    metadata       TEXT    NOT NULL CHECK (json_valid(metadata)),
    recorded_at    TEXT    NOT NULL,
    leaf_hash      BLOB    NOT NULL CHECK (length(leaf_hash) = 32),
    UNIQUE (stream_id, stream_version)
);

CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE is refused');
END;

CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE is refused');
END;
