-- Read models, fed by the projector in log order. Unlike `events`, these
-- tables are derived and may be rebuilt from zero (`advice-log rebuild`).
CREATE TABLE projection_checkpoints (
    name     TEXT   PRIMARY KEY,
    position BIGINT NOT NULL
);

CREATE TABLE proposal_view (
    proposal_id           UUID        PRIMARY KEY,
    owner_kind            TEXT        NOT NULL,
    owner_id              UUID        NOT NULL,
    title                 TEXT        NOT NULL,
    rule                  TEXT        NOT NULL,
    state                 TEXT        NOT NULL,
    outcome               TEXT,
    raised_position       BIGINT      NOT NULL,
    raised_at             TIMESTAMPTZ NOT NULL,
    decided_position      BIGINT,
    decided_at            TIMESTAMPTZ,
    review_by             TIMESTAMPTZ,
    revoked               BOOLEAN     NOT NULL DEFAULT FALSE,
    advice_followed       BOOLEAN,
    requests              BIGINT      NOT NULL DEFAULT 0,
    requests_answered     BIGINT      NOT NULL DEFAULT 0,
    objections_raised     BIGINT      NOT NULL DEFAULT 0,
    objections_integrated BIGINT      NOT NULL DEFAULT 0
);
CREATE INDEX proposal_view_owner_raised ON proposal_view (owner_id, raised_position);
CREATE INDEX proposal_view_owner_state ON proposal_view (owner_id, state, raised_position);
CREATE INDEX proposal_view_owner_decided ON proposal_view (owner_id, decided_position)
    WHERE decided_position IS NOT NULL;
CREATE INDEX proposal_view_review ON proposal_view (review_by, raised_position)
    WHERE outcome = 'ADOPTED' AND NOT revoked AND review_by IS NOT NULL;

CREATE TABLE advice_request_view (
    request_id         UUID        PRIMARY KEY,
    proposal_id        UUID        NOT NULL,
    adviser_kind       TEXT        NOT NULL,
    adviser_id         UUID        NOT NULL,
    reason             TEXT        NOT NULL,
    requested_position BIGINT      NOT NULL,
    requested_at       TIMESTAMPTZ NOT NULL,
    answered           BOOLEAN     NOT NULL DEFAULT FALSE,
    open               BOOLEAN     NOT NULL DEFAULT TRUE
);
CREATE INDEX advice_request_view_pending ON advice_request_view (adviser_id, requested_position)
    WHERE NOT answered AND open;
CREATE INDEX advice_request_view_proposal ON advice_request_view (proposal_id);
