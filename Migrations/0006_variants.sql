-- Multivariate flags: a flag has a value type and variants; an environment's state says what it
-- serves (off_variant, serve) and so may each rule (serve). Boolean flags keep their v1 columns:
-- their variants are always `on` (true) and `off` (false), and rollout_percentage p is the
-- distribution [on p, off 100 - p], so their serve columns stay null.
ALTER TABLE feature_flags
    ADD COLUMN value_type text NOT NULL DEFAULT 'boolean'
        CHECK (value_type IN ('boolean', 'string', 'number', 'json'));

CREATE TABLE flag_variants (
    flag_id     uuid    NOT NULL REFERENCES feature_flags (id) ON DELETE CASCADE,
    key         text    NOT NULL CHECK (key ~ '^[a-z][a-z0-9_-]{0,63}$'),
    position    integer NOT NULL CHECK (position BETWEEN 0 AND 99),
    -- json, not jsonb: a JSON value (a whole configuration) keeps the key order it was written with.
    value       json    NOT NULL CHECK (octet_length(value::text) <= 8192),
    name        text    CHECK (char_length(name) >= 1),
    description text,
    PRIMARY KEY (flag_id, key),
    CONSTRAINT flag_variants_position_key UNIQUE (flag_id, position) DEFERRABLE INITIALLY DEFERRED
);

INSERT INTO flag_variants (flag_id, key, position, value)
SELECT f.id, v.key, v.position, v.value
  FROM feature_flags f
 CROSS JOIN (VALUES ('on', 0, 'true'::json), ('off', 1, 'false'::json)) AS v(key, position, value);

-- Null means the default: the flag's `off` variant (boolean) or its first variant; the
-- distribution from rollout_percentage (boolean) or the first variant.
ALTER TABLE flag_environments
    ADD COLUMN off_variant text,
    ADD COLUMN serve jsonb CHECK (serve IS NULL OR jsonb_typeof(serve) = 'object');
ALTER TABLE targeting_rules
    ADD COLUMN serve jsonb CHECK (serve IS NULL OR jsonb_typeof(serve) = 'object');

CREATE FUNCTION flag_variants_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    project uuid;
BEGIN
    SELECT project_id INTO project FROM feature_flags WHERE id = COALESCE(NEW.flag_id, OLD.flag_id);
    -- Variants deleted by their flag's cascade find no flag: the flag's own trigger has notified.
    IF project IS NOT NULL THEN
        PERFORM notify_project_changed(project);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER flag_variants_notify AFTER INSERT OR UPDATE OR DELETE ON flag_variants
    FOR EACH ROW EXECUTE FUNCTION flag_variants_changed();
