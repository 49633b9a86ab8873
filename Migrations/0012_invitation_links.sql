-- An invitation is now an e-mailed single-use link, accepted by a signed-in user whose e-mail is the
-- invited one; registering the address alone no longer makes a membership (anyone may register any
-- address without proving they own it). As for password resets, only a SHA-256 of the link's token
-- is stored (256 random bits: a fast hash is enough). An accepted invitation stays, spent, so that a
-- second use of its link is told apart from a link that never existed.
ALTER TABLE project_invitations
    ADD COLUMN token_hash  bytea UNIQUE,
    ADD COLUMN expires_at  timestamptz,
    ADD COLUMN accepted_at timestamptz,
    ADD COLUMN accepted_by uuid REFERENCES users (id) ON DELETE SET NULL;

-- Invitations recorded before had no link and nothing can accept them: they stay as a record, already
-- expired; adding the member again sends a link.
UPDATE project_invitations SET expires_at = invited_at WHERE expires_at IS NULL;
ALTER TABLE project_invitations ALTER COLUMN expires_at SET NOT NULL;
