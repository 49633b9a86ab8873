-- Accounts and projects. Emails are unique case-insensitively; the application stores them trimmed.
CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE projects (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    description text        CHECK (char_length(description) <= 2000),
    sdk_key     text        NOT NULL UNIQUE CHECK (sdk_key ~ '^sdk_[A-Za-z0-9]{32}$'),
    created_by  uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Serves "my projects, newest first" and every ownership check (id + created_by).
CREATE INDEX projects_created_by_idx ON projects (created_by, created_at DESC);
