-- What the web app's register and search read. The register filters
-- decisions by the verdict's checks that failed when each was decided
-- (`failing_checks`, e.g. ',ADVICE_SOUGHT,FAIR_WINDOW,', so that
-- `LIKE '%,NAME,%'` finds one) and lists every owner's decisions newest first.
-- Search is a full-text index of each proposal's title, current body and
-- rationales (the decision's, the amendments' reasons, the reviews' notes),
-- its rowid the proposal's raise position. Read models are derived: they
-- are emptied here and the projector rebuilds them from the log on the next
-- start.
DELETE FROM advice_request_view;
DELETE FROM proposal_view;
DELETE FROM projection_checkpoints WHERE name = 'views';
ALTER TABLE proposal_view ADD COLUMN failing_checks TEXT NOT NULL DEFAULT '';
CREATE INDEX proposal_view_decided ON proposal_view (decided_position)
    WHERE decided_position IS NOT NULL;
CREATE VIRTUAL TABLE proposal_search USING fts5(
    proposal_id UNINDEXED,
    title,
    body,
    rationales,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
