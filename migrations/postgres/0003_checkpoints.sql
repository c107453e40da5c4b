-- Signed checkpoints of the log's Merkle tree, append-only like the log.
CREATE TABLE checkpoints (
    tree_size BIGINT      PRIMARY KEY CHECK (tree_size > 0),
    root      BYTEA       NOT NULL CHECK (length(root) = 32),
    note      TEXT        NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION checkpoints_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'checkpoints are append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER checkpoints_refuse_update_delete BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION checkpoints_refuse_change();

CREATE TRIGGER checkpoints_refuse_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION checkpoints_refuse_change();
