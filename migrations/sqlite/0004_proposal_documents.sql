-- Each proposal row carries its whole read model (folded state, positions,
-- actors) as a JSON document, so a page of proposals is one query with no
-- stream reads. Read models are derived: they are emptied here and the
-- projector rebuilds them from the log on the next start.
DELETE FROM advice_request_view;
DELETE FROM proposal_view;
DELETE FROM projection_checkpoints WHERE name = 'views';
ALTER TABLE proposal_view ADD COLUMN doc TEXT NOT NULL DEFAULT '';
