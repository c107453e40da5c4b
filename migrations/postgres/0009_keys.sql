-- Keys for crypto-shredding (erasure). Personal data in events is sealed
-- under keys kept here, never in `events`: a person's key wrapped under the
-- operator's key-encryption key, and each free-text field's key wrapped
-- under its author's key. Destroying a key sets its wrapped bytes to NULL
-- and leaves a tombstone (when, why); the events never change. Times are
-- Unix milliseconds; ids are UUID text; wrapped keys are nonce || ciphertext.
CREATE TABLE person_keys (
    person_id    TEXT   PRIMARY KEY,
    wrapped      BYTEA,
    created_at   BIGINT NOT NULL,
    destroyed_at BIGINT,
    reason       TEXT,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);

CREATE TABLE field_keys (
    key_id       TEXT   PRIMARY KEY,
    author_id    TEXT   NOT NULL,
    -- TRUE once the author was erased without their contributions: the
    -- key is then wrapped under the key-encryption key instead.
    kept         BOOLEAN NOT NULL DEFAULT FALSE,
    wrapped      BYTEA,
    created_at   BIGINT NOT NULL,
    destroyed_at BIGINT,
    reason       TEXT,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE INDEX field_keys_author ON field_keys (author_id);

-- One row: a known constant sealed under the key-encryption key, written on
-- first use, so a server started with another key refuses to start.
CREATE TABLE key_check (
    name        TEXT   PRIMARY KEY,
    fingerprint TEXT   NOT NULL,
    sealed      BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL
);
