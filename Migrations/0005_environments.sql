-- Environments: a flag is defined once per project; its state (enabled, rollout, rules) and its
-- analytics are kept per environment. Every existing project gets `production` (the default, with
-- its current state, rules, analytics and SDK key) and `staging` (a copy of that state). DbUp runs
-- this script in one transaction: it lands whole or not at all.

-- Who may touch a project, in one place: every management statement joins this function, so that
-- membership with roles is a change of this function alone. It is inlined by the planner (plain
-- SQL, STABLE), so `JOIN user_projects(@UserId) m ON m.project_id = p.id` uses the indexes.
CREATE FUNCTION user_projects(user_id uuid) RETURNS TABLE (project_id uuid, role text)
    LANGUAGE sql STABLE AS $$
    SELECT p.id, 'owner'::text FROM projects p WHERE p.created_by = user_id
$$;

-- 32 characters of [A-Za-z0-9] from gen_random_uuid(), which reads the server's strong random
-- source; only this migration uses it (the service makes its keys with .NET's cryptographic RNG).
CREATE FUNCTION pg_temp.random_key(prefix text) RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT prefix || substr(translate(encode(
        uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'),
        '+/=', ''), 1, 32)
$$;

CREATE TABLE environments (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key         text        NOT NULL CHECK (key ~ '^[a-z][a-z0-9_-]{0,63}$'),
    name        text        NOT NULL CHECK (char_length(name) >= 1),
    description text,
    sdk_key     text        NOT NULL UNIQUE CHECK (sdk_key ~ '^sdk_[A-Za-z0-9]{32}$'),
    server_key  text        NOT NULL UNIQUE CHECK (server_key ~ '^srv_[A-Za-z0-9]{32}$'),
    is_default  boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT environments_project_key_key UNIQUE (project_id, key),
    -- The target of the (project_id, id) foreign keys below: state never crosses projects.
    CONSTRAINT environments_project_id_key UNIQUE (project_id, id)
);
-- Exactly one default per project: at most one here, at least one because the default cannot be
-- deleted or unset (only replaced, in one transaction).
CREATE UNIQUE INDEX environments_one_default ON environments (project_id) WHERE is_default;

INSERT INTO environments (project_id, key, name, sdk_key, server_key, is_default, created_at, updated_at)
SELECT p.id, 'production', 'Production', p.sdk_key, pg_temp.random_key('srv_'), true, p.created_at, p.created_at
  FROM projects p;
INSERT INTO environments (project_id, key, name, sdk_key, server_key, is_default, created_at, updated_at)
SELECT p.id, 'staging', 'Staging', pg_temp.random_key('sdk_'), pg_temp.random_key('srv_'), false,
       p.created_at + interval '1 microsecond', p.created_at + interval '1 microsecond'
  FROM projects p;

-- The project's v1 sdk_key is its default environment's from now on.
DROP TRIGGER projects_notify ON projects;
ALTER TABLE projects DROP COLUMN sdk_key;
CREATE TRIGGER projects_notify AFTER DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION projects_changed();

ALTER TABLE feature_flags ADD CONSTRAINT feature_flags_project_id_key UNIQUE (project_id, id);

-- A flag's state in one environment. Every (flag, environment) pair of a project has a row:
-- creating a flag writes one per environment, creating an environment one per flag, and the two
-- are serialised by a lock on the project row.
CREATE TABLE flag_environments (
    project_id         uuid        NOT NULL,
    flag_id            uuid        NOT NULL,
    environment_id     uuid        NOT NULL,
    enabled            boolean     NOT NULL DEFAULT false,
    rollout_percentage integer     NOT NULL DEFAULT 0 CHECK (rollout_percentage BETWEEN 0 AND 100),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (environment_id, flag_id),
    FOREIGN KEY (project_id, flag_id) REFERENCES feature_flags (project_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, environment_id) REFERENCES environments (project_id, id) ON DELETE CASCADE
);
CREATE INDEX flag_environments_flag_idx ON flag_environments (flag_id);

INSERT INTO flag_environments (project_id, flag_id, environment_id, enabled, rollout_percentage, updated_at)
SELECT f.project_id, f.id, e.id,
       f.enabled, f.rollout_percentage, f.updated_at
  FROM feature_flags f JOIN environments e ON e.project_id = f.project_id;

ALTER TABLE feature_flags DROP COLUMN enabled, DROP COLUMN rollout_percentage;

-- Rules belong to a flag's state in one environment.
ALTER TABLE targeting_rules ADD COLUMN environment_id uuid;
-- staging's copies first (new ids), then the originals become production's, keeping their ids.
-- Rules tied on (priority, created_at) are evaluated in id order; the copies' new ids would
-- shuffle such ties, so later ones of a tie are moved a microsecond apart, in the original order.
INSERT INTO targeting_rules (flag_id, environment_id, rule_type, rule_value, conditions, rollout_percentage,
                             enabled, priority, created_at, updated_at)
SELECT r.flag_id, e.id, r.rule_type, r.rule_value, r.conditions, r.rollout_percentage, r.enabled, r.priority,
       r.created_at + make_interval(secs => (row_number() OVER (PARTITION BY r.flag_id, r.priority, r.created_at ORDER BY r.id) - 1) / 1e6),
       r.updated_at
  FROM targeting_rules r
  JOIN feature_flags f ON f.id = r.flag_id
  JOIN environments e ON e.project_id = f.project_id AND e.key = 'staging';
UPDATE targeting_rules r SET environment_id = e.id
  FROM feature_flags f, environments e
 WHERE r.environment_id IS NULL AND f.id = r.flag_id AND e.project_id = f.project_id AND e.is_default;
ALTER TABLE targeting_rules
    ALTER COLUMN environment_id SET NOT NULL,
    ADD FOREIGN KEY (environment_id, flag_id) REFERENCES flag_environments (environment_id, flag_id) ON DELETE CASCADE;
DROP INDEX targeting_rules_flag_idx;
CREATE INDEX targeting_rules_state_idx ON targeting_rules (environment_id, flag_id, priority DESC, created_at);
CREATE INDEX targeting_rules_flag_idx ON targeting_rules (flag_id);

-- Counts per environment, and by (reason, variant): an outcome is a served variant and why. For
-- boolean flags the variant `on` is the v1 result true, `off` false.
ALTER TABLE flag_evaluation_counts ADD COLUMN environment_id uuid, ADD COLUMN variant text;
UPDATE flag_evaluation_counts c
   SET environment_id = e.id, variant = CASE WHEN c.result THEN 'on' ELSE 'off' END
  FROM feature_flags f, environments e
 WHERE f.id = c.flag_id AND e.project_id = f.project_id AND e.is_default;
ALTER TABLE flag_evaluation_counts
    DROP CONSTRAINT flag_evaluation_counts_pkey,
    DROP COLUMN result,
    ALTER COLUMN environment_id SET NOT NULL,
    ALTER COLUMN variant SET NOT NULL,
    ADD FOREIGN KEY (environment_id) REFERENCES environments (id) ON DELETE CASCADE,
    ADD PRIMARY KEY (flag_id, environment_id, minute, reason, variant);

-- Latest answers per (environment, identifier); existing rows are production's.
ALTER TABLE evaluation_latest ADD COLUMN environment_id uuid;
UPDATE evaluation_latest l SET environment_id = e.id
  FROM environments e WHERE e.project_id = l.project_id AND e.is_default;
ALTER TABLE evaluation_latest
    DROP CONSTRAINT evaluation_latest_pkey,
    DROP COLUMN project_id,
    ALTER COLUMN environment_id SET NOT NULL,
    ADD FOREIGN KEY (environment_id) REFERENCES environments (id) ON DELETE CASCADE,
    ADD PRIMARY KEY (environment_id, identifier);

-- Notifications: every change to what evaluation depends on still announces its project.
CREATE FUNCTION environments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM notify_project_changed(COALESCE(NEW.project_id, OLD.project_id));
    RETURN NULL;
END $$;
CREATE TRIGGER environments_notify AFTER INSERT OR UPDATE OR DELETE ON environments
    FOR EACH ROW EXECUTE FUNCTION environments_changed();

CREATE FUNCTION flag_environments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM notify_project_changed(COALESCE(NEW.project_id, OLD.project_id));
    RETURN NULL;
END $$;
CREATE TRIGGER flag_environments_notify AFTER INSERT OR UPDATE OR DELETE ON flag_environments
    FOR EACH ROW EXECUTE FUNCTION flag_environments_changed();
