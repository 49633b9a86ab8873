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

-- The latest answer each identifier got for each flag ("what did user X get, and when").
CREATE TABLE flag_evaluation_latest (
    flag_id      uuid        NOT NULL REFERENCES feature_flags (id) ON DELETE CASCADE,
    identifier   text        NOT NULL,
    result       boolean     NOT NULL,
    reason       text        NOT NULL,
    evaluated_at timestamptz NOT NULL,
    PRIMARY KEY (flag_id, identifier)
);
