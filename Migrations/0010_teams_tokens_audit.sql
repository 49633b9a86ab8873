-- Teams: projects are shared with members who hold a role. user_projects (0005) is the one place
-- that says who may touch a project, so replacing it here moves every management statement from
-- "created_by = caller" to membership at once.

CREATE TABLE project_members (
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, user_id)
);
-- "My projects" reads by user; the primary key serves "the project's members".
CREATE INDEX project_members_user_idx ON project_members (user_id);

-- Every creator so far is their project's first owner.
INSERT INTO project_members (project_id, user_id, role, added_at)
SELECT p.id, p.created_by, 'owner', p.created_at FROM projects p;

-- An e-mail without an account, invited to a project; registration turns it into a membership.
CREATE TABLE project_invitations (
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    email      text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    role       text        NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    invited_by uuid        REFERENCES users (id) ON DELETE SET NULL,
    invited_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, email)
);
-- Registration looks invitations up by the (lower-cased) e-mail.
CREATE INDEX project_invitations_email_idx ON project_invitations (lower(email));

CREATE OR REPLACE FUNCTION user_projects(user_id uuid) RETURNS TABLE (project_id uuid, role text)
    LANGUAGE sql STABLE AS $$
    SELECT pm.project_id, pm.role FROM project_members pm WHERE pm.user_id = user_projects.user_id
$$;

-- API tokens for automation. Only a SHA-256 of the secret is kept: the secret has 238 random bits,
-- so a fast hash is enough (a slow one is for guessable passwords) and lookups stay an index probe.
CREATE TABLE api_tokens (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    prefix       text        NOT NULL,
    token_hash   bytea       NOT NULL UNIQUE,
    role         text        NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    project_id   uuid        REFERENCES projects (id) ON DELETE CASCADE,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at DESC);

-- The audit log: one entry per management write, written in the write's own transaction. Entries
-- outlive their project (no foreign key): "who deleted this project" stays answerable.
CREATE TABLE audit_log (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    project_id    uuid,
    actor_type    text        NOT NULL CHECK (actor_type IN ('user', 'token', 'schedule')),
    actor_id      uuid,
    actor_email   text,
    action        text        NOT NULL,
    resource_type text        NOT NULL,
    resource_id   uuid,
    resource_key  text,
    environment   text,
    before        jsonb,
    after         jsonb
);
-- Newest first per project is the read; the cursor is the id.
CREATE INDEX audit_log_project_idx ON audit_log (project_id, id DESC);

-- Append-only: nothing updates an entry, and an entry is deleted only once its project is gone
-- (an operator purging a deleted project's history). The service itself never deletes entries.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND (OLD.project_id IS NULL OR EXISTS (SELECT 1 FROM projects WHERE id = OLD.project_id)) THEN
        RAISE EXCEPTION 'audit_log entries of an existing project cannot be deleted' USING ERRCODE = 'insufficient_privilege';
    ELSIF TG_OP IN ('UPDATE', 'TRUNCATE') THEN
        RAISE EXCEPTION 'audit_log entries cannot be changed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Password reset. A reset revokes every JWT issued before it: the service keeps each user's
-- tokens_valid_after in memory and hears changes through this channel (no query per request).
ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz;

CREATE FUNCTION users_sessions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('flagservice_sessions', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER users_sessions_notify AFTER UPDATE OF tokens_valid_after ON users
    FOR EACH ROW WHEN (NEW.tokens_valid_after IS DISTINCT FROM OLD.tokens_valid_after)
    EXECUTE FUNCTION users_sessions_changed();

-- Single-use reset tokens, by SHA-256 of the secret (256 random bits: a fast hash is enough).
CREATE TABLE password_resets (
    token_hash bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
