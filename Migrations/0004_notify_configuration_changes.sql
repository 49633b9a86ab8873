-- Every change to what evaluation depends on announces its project on the channel
-- 'flagservice_config' when the transaction commits, so that every instance of the service drops
-- its cached snapshot of that project. Triggers also cover changes made by hand in psql.
CREATE FUNCTION notify_project_changed(project uuid) RETURNS void LANGUAGE sql AS $$
    SELECT pg_notify('flagservice_config', project::text);
$$;

CREATE FUNCTION projects_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM notify_project_changed(OLD.id);
    RETURN NULL;
END $$;

CREATE TRIGGER projects_notify AFTER UPDATE OF sdk_key OR DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION projects_changed();

CREATE FUNCTION feature_flags_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM notify_project_changed(COALESCE(NEW.project_id, OLD.project_id));
    RETURN NULL;
END $$;

CREATE TRIGGER feature_flags_notify AFTER INSERT OR UPDATE OR DELETE ON feature_flags
    FOR EACH ROW EXECUTE FUNCTION feature_flags_changed();

CREATE FUNCTION targeting_rules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    project uuid;
BEGIN
    SELECT project_id INTO project FROM feature_flags WHERE id = COALESCE(NEW.flag_id, OLD.flag_id);
    -- A rule deleted by its flag's cascade finds no flag: the flag's own trigger has notified.
    IF project IS NOT NULL THEN
        PERFORM notify_project_changed(project);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER targeting_rules_notify AFTER INSERT OR UPDATE OR DELETE ON targeting_rules
    FOR EACH ROW EXECUTE FUNCTION targeting_rules_changed();
