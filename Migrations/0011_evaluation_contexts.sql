-- "What did user X get for flag F, and when" without storing users × flags answers: each
-- environment's configuration versions are kept immutable (the ruleset document, named by its
-- digest), and per identifier only the last context and the version it was evaluated with. The
-- read API evaluates that version for that context again, which gives exactly the answer served.

CREATE TABLE configuration_versions (
    environment_id uuid        NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    version        text        NOT NULL CHECK (char_length(version) BETWEEN 1 AND 64),
    ruleset        json        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (environment_id, version)
);

-- flag_id is the all-zero uuid for an evaluation of every flag of the environment (/sdk/v1/evaluate,
-- OFREP bulk), else the one flag evaluated alone (OFREP single flag): the later of the two answers.
CREATE TABLE evaluation_contexts (
    environment_id uuid        NOT NULL,
    identifier     text        NOT NULL,
    flag_id        uuid        NOT NULL,
    version        text        NOT NULL,
    context        jsonb       NOT NULL,
    evaluated_at   timestamptz NOT NULL,
    PRIMARY KEY (environment_id, identifier, flag_id),
    FOREIGN KEY (environment_id, version) REFERENCES configuration_versions (environment_id, version) ON DELETE CASCADE
);
-- Pruning looks for versions nobody references; deleting a flag removes its own rows.
CREATE INDEX evaluation_contexts_version_idx ON evaluation_contexts (environment_id, version);
CREATE INDEX evaluation_contexts_flag_idx ON evaluation_contexts (flag_id)
    WHERE flag_id <> '00000000-0000-0000-0000-000000000000';

-- evaluation_latest keeps the answers written before this version; it is read, no longer written.
COMMENT ON TABLE evaluation_latest IS 'Latest answers recorded before 0011; read as a fallback by evaluations?user=.';
