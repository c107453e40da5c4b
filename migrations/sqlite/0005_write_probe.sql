-- One row the server rewrites to learn whether the database takes writes
-- again after a commit failed (a full disk, an I/O error). Not part of the
-- log: nothing reads it but the probe.
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TEXT    NOT NULL
);
