namespace FlagService.Features.Environments;

// SQL shared by every statement that works in one environment of a project.
public static class EnvironmentScope
{
    // Writes that add or remove environments, or change which is the default, take the project row
    // exclusively; flag creation takes it shared (FlagConfigStore.CreateAsync). So a flag and an
    // environment created at the same time still get their state row, and two default switches
    // cannot interleave. The lock runs after ProjectScope's check and is null only when the project
    // has been deleted since.
    public const string LockProjectExclusive = "SELECT p.id FROM projects p WHERE p.id = @ProjectId FOR NO KEY UPDATE OF p";

    // Copies the source environment's rules (with what they serve) of some flags (@FlagIds, or
    // every flag when null) into the target. Ids are new; created_at is kept, so the copy evaluates
    // in the same order, except that rules tied on (priority, created_at), which evaluate in id
    // order, are moved a microsecond apart in their original order (new ids would shuffle them).
    public const string CopyRules = """
        INSERT INTO targeting_rules (flag_id, environment_id, rule_type, rule_value, conditions, rollout_percentage,
                                     enabled, priority, created_at, serve)
        SELECT r.flag_id, @TargetId, r.rule_type, r.rule_value, r.conditions, r.rollout_percentage, r.enabled,
               r.priority,
               r.created_at + make_interval(secs => (row_number() OVER (PARTITION BY r.flag_id, r.priority, r.created_at ORDER BY r.id) - 1) / 1e6),
               r.serve
          FROM targeting_rules r
         WHERE r.environment_id = @SourceId AND (CAST(@FlagIds AS uuid[]) IS NULL OR r.flag_id = ANY(@FlagIds))
        """;

    // Copies the source environment's prerequisites of some flags (@FlagIds, or every flag) into the target.
    public const string CopyPrerequisites = """
        INSERT INTO flag_prerequisites (environment_id, flag_id, position, required_flag_id, variant)
        SELECT @TargetId, p.flag_id, p.position, p.required_flag_id, p.variant
          FROM flag_prerequisites p
         WHERE p.environment_id = @SourceId AND (CAST(@FlagIds AS uuid[]) IS NULL OR p.flag_id = ANY(@FlagIds))
        """;
}
