-- What a server would otherwise rebuild from the whole log at start-up (the
-- directory, the Merkle tree's complete subtrees), kept with the position it
-- covers so a start reads only the events after it. Derived data, not part
-- of the log: a snapshot that is missing, of another format or unreadable
-- is rebuilt from the log.
CREATE TABLE snapshots (
    name     TEXT    PRIMARY KEY,
    position INTEGER NOT NULL CHECK (position >= 0),
    format   TEXT    NOT NULL,
    body     BLOB    NOT NULL
);
