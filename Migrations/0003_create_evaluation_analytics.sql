-- Per-minute counters, written by the analytics flusher as additive upserts so that several
-- instances can add to the same row.
CREATE TABLE flag_evaluation_counts (
    flag_id uuid        NOT NULL REFERENCES feature_flags (id) ON DELETE CASCADE,
    minute  timestamptz NOT NULL CHECK (date_trunc('minute', minute) = minute),
    result  boolean     NOT NULL,
    reason  text        NOT NULL,
    count   bigint      NOT NULL CHECK (count >= 0),
    PRIMARY KEY (flag_id, minute, result, reason)
);

-- The latest answer each identifier got for each flag ("what did user X get, and when"): one row
-- per project and identifier, so that one evaluate call of N flags is one row to write, holding
-- {"<flag id>": {"result": true, "reason": "rollout", "at": "2026-01-31T10:00:00.123456Z"}, ...}.
CREATE TABLE evaluation_latest (
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    identifier text        NOT NULL,
    results    jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, identifier)
);
