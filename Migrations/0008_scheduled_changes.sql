-- Scheduled changes: a change to a flag's state in one environment (the fields of a PUT that
-- belong to the state: enabled, rollout_percentage, off_variant, serve), applied at `at` by one
-- of the running instances. Null fields are left as they are, as in a PUT. The row is kept after
-- it ran, as the record of what happened (applied, failed with the reason, or cancelled).
CREATE TABLE flag_schedules (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    flag_id            uuid        NOT NULL,
    environment_id     uuid        NOT NULL,
    at                 timestamptz NOT NULL,
    enabled            boolean,
    rollout_percentage integer     CHECK (rollout_percentage BETWEEN 0 AND 100),
    off_variant        text,
    serve              jsonb       CHECK (serve IS NULL OR jsonb_typeof(serve) = 'object'),
    -- The scheduling user, the actor when the change is applied. A schedule is the project's, not
    -- its author's: it outlives the account.
    created_by         uuid        REFERENCES users (id) ON DELETE SET NULL,
    status             text        NOT NULL DEFAULT 'pending'
                                   CHECK (status IN ('pending', 'applied', 'failed', 'cancelled')),
    applied_at         timestamptz,
    failure_reason     text,
    cancelled_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- Deleting the flag or the environment deletes its state and with it its schedules.
    FOREIGN KEY (environment_id, flag_id) REFERENCES flag_environments (environment_id, flag_id) ON DELETE CASCADE,
    CONSTRAINT flag_schedules_change_check CHECK (
        enabled IS NOT NULL OR rollout_percentage IS NOT NULL OR off_variant IS NOT NULL OR serve IS NOT NULL),
    CONSTRAINT flag_schedules_outcome_check CHECK (
        (status = 'applied') = (applied_at IS NOT NULL)
        AND (status = 'failed') = (failure_reason IS NOT NULL)
        AND (status = 'cancelled') = (cancelled_at IS NOT NULL))
);

-- What every instance polls for, a few times a second: only pending rows are in the index.
CREATE INDEX flag_schedules_due_idx ON flag_schedules (at) WHERE status = 'pending';
-- A flag's schedules in one environment, soonest first (and the cascade from flag_environments).
CREATE INDEX flag_schedules_state_idx ON flag_schedules (environment_id, flag_id, at);
