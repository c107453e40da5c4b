-- Signed checkpoints of the log's Merkle tree, append-only like the log.
CREATE TABLE checkpoints (
    tree_size INTEGER PRIMARY KEY CHECK (tree_size > 0),
    root      BLOB    NOT NULL CHECK (length(root) = 32),
    note      TEXT    NOT NULL,
    issued_at TEXT    NOT NULL
);

CREATE TRIGGER checkpoints_refuse_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: UPDATE is refused');
END;

CREATE TRIGGER checkpoints_refuse_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: DELETE is refused');
END;
