-- Read models, fed by the projector in log order. Unlike `events`, these
-- tables are derived and may be rebuilt from zero (`advice-log rebuild`).
CREATE TABLE projection_checkpoints (
    name     TEXT    PRIMARY KEY,
    position INTEGER NOT NULL
);

CREATE TABLE proposal_view (
    proposal_id           TEXT    PRIMARY KEY,
    owner_kind            TEXT    NOT NULL,
    owner_id              TEXT    NOT NULL,
    title                 TEXT    NOT NULL,
    rule                  TEXT    NOT NULL,
    state                 TEXT    NOT NULL,
    outcome               TEXT,
    raised_position       INTEGER NOT NULL,
    raised_at             TEXT    NOT NULL,
    decided_position      INTEGER,
    decided_at            TEXT,
    review_by             TEXT,
    revoked               INTEGER NOT NULL DEFAULT 0,
    advice_followed       INTEGER,
    requests              INTEGER NOT NULL DEFAULT 0,
    requests_answered     INTEGER NOT NULL DEFAULT 0,
    objections_raised     INTEGER NOT NULL DEFAULT 0,
    objections_integrated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX proposal_view_owner_raised ON proposal_view (owner_id, raised_position);
CREATE INDEX proposal_view_owner_state ON proposal_view (owner_id, state, raised_position);
CREATE INDEX proposal_view_owner_decided ON proposal_view (owner_id, decided_position)
    WHERE decided_position IS NOT NULL;
CREATE INDEX proposal_view_review ON proposal_view (review_by, raised_position)
    WHERE outcome = 'ADOPTED' AND revoked = 0 AND review_by IS NOT NULL;

CREATE TABLE advice_request_view (
    request_id         TEXT    PRIMARY KEY,
    proposal_id        TEXT    NOT NULL,
    adviser_kind       TEXT    NOT NULL,
    adviser_id         TEXT    NOT NULL,
    reason             TEXT    NOT NULL,
    requested_position INTEGER NOT NULL,
    requested_at       TEXT    NOT NULL,
    answered           INTEGER NOT NULL DEFAULT 0,
    open               INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX advice_request_view_pending ON advice_request_view (adviser_id, requested_position)
    WHERE answered = 0 AND open = 1;
CREATE INDEX advice_request_view_proposal ON advice_request_view (proposal_id);
