-- Whose originals an archive holds, so that a `user` member is shown only
-- archives it may download whole: '' = no originals (public versions only),
-- a user uuid = originals of that user's uploads only, '*' = anyone's.
-- Rows made before this column existed are '*' (fail closed).
ALTER TABLE archives ADD COLUMN originals_by TEXT NOT NULL DEFAULT '*';
