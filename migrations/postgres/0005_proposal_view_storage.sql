-- A proposal's row is rewritten on every event of the proposal. Room left on
-- each page lets most rewrites be HOT updates (no new index entries when no
-- indexed column changed), and lz4 compresses the documents for far less CPU
-- than the default pglz.
ALTER TABLE proposal_view SET (fillfactor = 50);
ALTER TABLE proposal_view ALTER COLUMN doc SET COMPRESSION lz4;
ALTER TABLE advice_request_view SET (fillfactor = 70);
