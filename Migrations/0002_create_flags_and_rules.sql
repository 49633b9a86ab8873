CREATE TABLE feature_flags (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id         uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name               text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    key                text        NOT NULL CHECK (key ~ '^[a-z][a-z0-9_-]{0,63}$'),
    description        text        CHECK (char_length(description) <= 2000),
    enabled            boolean     NOT NULL DEFAULT false,
    rollout_percentage integer     NOT NULL DEFAULT 0 CHECK (rollout_percentage BETWEEN 0 AND 100),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- Concurrent creates of the same key are settled here, not by a read-then-write check.
    CONSTRAINT feature_flags_project_key_key UNIQUE (project_id, key)
);
CREATE INDEX feature_flags_project_created_idx ON feature_flags (project_id, created_at DESC);

CREATE TABLE targeting_rules (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    flag_id            uuid        NOT NULL REFERENCES feature_flags (id) ON DELETE CASCADE,
    rule_type          text        NOT NULL
                                   CHECK (rule_type IN ('user_id', 'user_email', 'email_domain', 'attribute_match')),
    rule_value         text        CHECK (char_length(rule_value) BETWEEN 1 AND 1024),
    conditions         jsonb,
    rollout_percentage integer     NOT NULL DEFAULT 100 CHECK (rollout_percentage BETWEEN 0 AND 100),
    enabled            boolean     NOT NULL DEFAULT true,
    priority           integer     NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- attribute_match rules carry conditions and no value; the other types the reverse.
    CONSTRAINT targeting_rules_shape_check CHECK (
        (rule_type = 'attribute_match' AND rule_value IS NULL AND jsonb_typeof(conditions) = 'array')
        OR (rule_type <> 'attribute_match' AND rule_value IS NOT NULL AND conditions IS NULL))
);
CREATE INDEX targeting_rules_flag_idx ON targeting_rules (flag_id, priority DESC, created_at);
