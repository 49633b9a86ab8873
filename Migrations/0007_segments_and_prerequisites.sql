-- Segments: audiences defined once per project (explicit identifier lists and attribute
-- conditions), used by rules of type `segment` in any flag and environment.
CREATE TABLE segments (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key         text        NOT NULL CHECK (key ~ '^[a-z][a-z0-9_-]{0,63}$'),
    name        text        NOT NULL CHECK (char_length(name) >= 1),
    description text,
    conditions  jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(conditions) = 'array'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT segments_project_key_key UNIQUE (project_id, key)
);

-- One row per identifier and list; the application caps each list at 10 000.
CREATE TABLE segment_members (
    segment_id uuid NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    list       text NOT NULL CHECK (list IN ('included', 'excluded')),
    identifier text NOT NULL CHECK (char_length(identifier) BETWEEN 1 AND 1024),
    PRIMARY KEY (segment_id, list, identifier)
);

ALTER TABLE targeting_rules DROP CONSTRAINT targeting_rules_rule_type_check;
ALTER TABLE targeting_rules ADD CONSTRAINT targeting_rules_rule_type_check
    CHECK (rule_type IN ('user_id', 'user_email', 'email_domain', 'attribute_match', 'segment'));
-- "Which rules use this segment?" when it is deleted.
CREATE INDEX targeting_rules_segment_idx ON targeting_rules (rule_value) WHERE rule_type = 'segment';

-- Prerequisites: in one environment, a flag serves its off variant unless each required flag
-- serves the given variant. A required flag cannot be deleted (the foreign key has no action, so
-- deleting a whole project, which removes both sides at once, still works).
CREATE TABLE flag_prerequisites (
    environment_id   uuid    NOT NULL,
    flag_id          uuid    NOT NULL,
    position         integer NOT NULL CHECK (position >= 0),
    required_flag_id uuid    NOT NULL REFERENCES feature_flags (id),
    variant          text    NOT NULL,
    PRIMARY KEY (environment_id, flag_id, position),
    CONSTRAINT flag_prerequisites_once UNIQUE (environment_id, flag_id, required_flag_id),
    FOREIGN KEY (environment_id, flag_id) REFERENCES flag_environments (environment_id, flag_id) ON DELETE CASCADE
);
CREATE INDEX flag_prerequisites_required_idx ON flag_prerequisites (required_flag_id);

CREATE FUNCTION segments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM notify_project_changed(COALESCE(NEW.project_id, OLD.project_id));
    RETURN NULL;
END $$;
CREATE TRIGGER segments_notify AFTER INSERT OR UPDATE OR DELETE ON segments
    FOR EACH ROW EXECUTE FUNCTION segments_changed();

-- Per statement, not per row: adding 10 000 identifiers is one notification, not 10 000 lookups.
CREATE FUNCTION segment_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    project uuid;
BEGIN
    FOR project IN SELECT DISTINCT s.project_id FROM changed c JOIN segments s ON s.id = c.segment_id LOOP
        PERFORM notify_project_changed(project);
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER segment_members_inserted AFTER INSERT ON segment_members
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION segment_members_changed();
CREATE TRIGGER segment_members_deleted AFTER DELETE ON segment_members
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION segment_members_changed();

CREATE FUNCTION flag_prerequisites_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    project uuid;
BEGIN
    SELECT project_id INTO project FROM environments WHERE id = COALESCE(NEW.environment_id, OLD.environment_id);
    IF project IS NOT NULL THEN
        PERFORM notify_project_changed(project);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER flag_prerequisites_notify AFTER INSERT OR UPDATE OR DELETE ON flag_prerequisites
    FOR EACH ROW EXECUTE FUNCTION flag_prerequisites_changed();
