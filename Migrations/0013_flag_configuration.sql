-- A flag's configuration read back in one place. Two views give each flag's project-level
-- definition and its state in each environment as one JSON document, in the shape of
-- Features/Flags/FlagConfig.cs; every reader (the management routes, the audit snapshot, schedules,
-- promotion, the snapshot loader) reads these views, and Features/Flags/FlagConfigStore.cs is the one
-- writer. A new field is a column here, a line in a view and a property in FlagConfig.
--
-- json, not jsonb: a variant's JSON value keeps the key order it was written with.

-- Every write of a state goes through the one writer, which bumps the version: a change request
-- can tell whether the flag changed since it was drafted.
ALTER TABLE flag_environments ADD COLUMN version bigint NOT NULL DEFAULT 1;

CREATE VIEW flag_definitions AS
SELECT f.project_id, f.id AS flag_id,
       json_build_object(
           'key', f.key,
           'name', f.name,
           'description', f.description,
           'value_type', f.value_type,
           'variants', COALESCE((SELECT json_agg(json_build_object('key', v.key, 'value', v.value, 'name', v.name,
                                                                   'description', v.description) ORDER BY v.position)
                                   FROM flag_variants v WHERE v.flag_id = f.id), '[]')) AS definition
  FROM feature_flags f;

-- Rules in evaluation order: highest priority first, then oldest.
CREATE VIEW flag_states AS
SELECT s.project_id, s.environment_id, s.flag_id, s.updated_at,
       json_build_object(
           'enabled', s.enabled,
           'rollout_percentage', s.rollout_percentage,
           'off_variant', s.off_variant,
           'serve', s.serve,
           'prerequisites', COALESCE((SELECT json_agg(json_build_object('flag', rf.key, 'variant', p.variant) ORDER BY p.position)
                                        FROM flag_prerequisites p JOIN feature_flags rf ON rf.id = p.required_flag_id
                                       WHERE p.environment_id = s.environment_id AND p.flag_id = s.flag_id), '[]'),
           'rules', COALESCE((SELECT json_agg(json_build_object(
                                          'id', r.id, 'rule_type', r.rule_type, 'rule_value', r.rule_value,
                                          'conditions', r.conditions, 'rollout_percentage', r.rollout_percentage,
                                          'enabled', r.enabled, 'priority', r.priority, 'serve', r.serve,
                                          'created_at', r.created_at, 'updated_at', r.updated_at)
                                      ORDER BY r.priority DESC, r.created_at, r.id)
                                FROM targeting_rules r
                               WHERE r.environment_id = s.environment_id AND r.flag_id = s.flag_id), '[]'),
           'version', s.version) AS state
  FROM flag_environments s;
