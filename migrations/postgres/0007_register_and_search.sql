-- What the web app's register and search read. The register filters
-- decisions by the verdict's checks that failed when each was decided
-- (`failing_checks`, e.g. ',ADVICE_SOUGHT,FAIR_WINDOW,', so that
-- `LIKE '%,NAME,%'` finds one) and lists every owner's decisions newest first.
-- Search reads each proposal's title (weight A), current body (B) and
-- rationales (C: the decision's, the amendments' reasons, the reviews'
-- notes) through one generated `tsvector` and its GIN index. Read models are
-- derived: they are emptied here and the projector rebuilds them from the
-- log on the next start.
DELETE FROM advice_request_view;
DELETE FROM proposal_view;
DELETE FROM projection_checkpoints WHERE name = 'views';
ALTER TABLE proposal_view ADD COLUMN failing_checks TEXT NOT NULL DEFAULT '';
CREATE INDEX proposal_view_decided ON proposal_view (decided_position)
    WHERE decided_position IS NOT NULL;
CREATE TABLE proposal_search (
    proposal_id UUID PRIMARY KEY,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    rationales  TEXT NOT NULL,
    document    TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(to_tsvector('english'::regconfig, body), 'B')
        || setweight(to_tsvector('english'::regconfig, rationales), 'C')
    ) STORED
);
CREATE INDEX proposal_search_document ON proposal_search USING GIN (document);
