using System.Data.Common;
using Dapper;
using FlagService.Features.Evaluation;

namespace FlagService.Features.Flags;

// The one reader and the one writer of a flag's configuration (FlagConfig.cs). Reads go through the
// views of Migrations/0013; the writer replaces a state in one batch. Callers hold a transaction.
public static class FlagConfigStore
{
    public sealed record Stored(Guid FlagId, Guid EnvironmentId, FlagSpec Spec, FlagConfig Config);

    private sealed record Row(Guid FlagId, Guid EnvironmentId, string Definition, string State);

    // The flag is locked (FOR SHARE: its variants stay as they are; FOR UPDATE when the caller will
    // replace them), and so is its state row, so the configuration read is the one written over.
    private const string ReadSql = """
        SELECT s.flag_id, s.environment_id, d.definition::text AS definition, s.state::text AS state
          FROM flag_states s JOIN flag_definitions d ON d.flag_id = s.flag_id
         WHERE s.project_id = @ProjectId AND s.environment_id = @EnvironmentId AND s.flag_id = @FlagId
        """;

    private const string LockShareSql = """
        SELECT 1 FROM feature_flags f JOIN flag_environments s ON s.flag_id = f.id AND s.environment_id = @EnvironmentId
         WHERE f.id = @FlagId AND f.project_id = @ProjectId
           FOR NO KEY UPDATE OF s FOR SHARE OF f
        """;

    private const string LockUpdateSql = """
        SELECT 1 FROM feature_flags f JOIN flag_environments s ON s.flag_id = f.id AND s.environment_id = @EnvironmentId
         WHERE f.id = @FlagId AND f.project_id = @ProjectId
           FOR NO KEY UPDATE OF s FOR UPDATE OF f
        """;

    // Null when the project has no such flag.
    public static async Task<Stored?> ReadAsync(DbConnection connection, DbTransaction transaction, Guid projectId, Guid environmentId,
        Guid flagId, CancellationToken ct, bool lockFlag = false)
    {
        var args = new { ProjectId = projectId, EnvironmentId = environmentId, FlagId = flagId };
        if (await connection.QuerySingleOrDefaultAsync<int?>(new CommandDefinition(lockFlag ? LockUpdateSql : LockShareSql, args, transaction,
                cancellationToken: ct)) is null)
        {
            return null;
        }
        var row = await connection.QuerySingleAsync<Row>(new CommandDefinition(ReadSql, args, transaction, cancellationToken: ct));
        return new Stored(row.FlagId, row.EnvironmentId, FlagConfigJson.Spec(row.Definition), FlagConfigJson.Config(row.State));
    }

    // Every flag's configuration in some environments of a project (all when @EnvironmentIds is
    // null), for copies and the snapshot loader.
    private const string ReadProjectSql = """
        SELECT s.flag_id, s.environment_id, d.definition::text AS definition, s.state::text AS state
          FROM flag_states s JOIN flag_definitions d ON d.flag_id = s.flag_id
         WHERE s.project_id = @ProjectId AND (CAST(@EnvironmentIds AS uuid[]) IS NULL OR s.environment_id = ANY(@EnvironmentIds))
        """;

    public static async Task<Stored[]> ReadEnvironmentAsync(DbConnection connection, DbTransaction transaction, Guid projectId,
        Guid environmentId, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(ReadProjectSql,
            new { ProjectId = projectId, EnvironmentIds = new[] { environmentId } }, transaction, cancellationToken: ct));
        return [.. rows.Select(r => new Stored(r.FlagId, r.EnvironmentId, FlagConfigJson.Spec(r.Definition), FlagConfigJson.Config(r.State)))];
    }

    private sealed record CatalogFlagRow(Guid Id, string Key, string ValueType, string VariantList);

    private sealed record EdgeRow(string Flag, string Required);

    // With lockGraph (a write that changes prerequisites), the environment row is locked first:
    // writers of one environment's prerequisite graph take turns, so two changes cannot close a
    // cycle together. Other writes do not wait for it. Segments are share-locked, so one that a
    // rule is about to name cannot be deleted before the rule is written (DeleteSegment locks it
    // exclusively, then looks for rules).
    private const string CatalogSql = """
        SELECT id FROM environments WHERE id = @EnvironmentId AND @LockGraph FOR NO KEY UPDATE;
        SELECT f.id, f.key, f.value_type,
               (SELECT string_agg(v.key, ',' ORDER BY v.position) FROM flag_variants v WHERE v.flag_id = f.id) AS variant_list
          FROM feature_flags f WHERE f.project_id = @ProjectId;
        SELECT key FROM segments WHERE project_id = @ProjectId FOR SHARE;
        SELECT df.key AS flag, rf.key AS required
          FROM flag_prerequisites p
          JOIN feature_flags df ON df.id = p.flag_id
          JOIN feature_flags rf ON rf.id = p.required_flag_id
         WHERE p.environment_id = @EnvironmentId;
        """;

    public static async Task<FlagCatalog> CatalogAsync(DbConnection connection, DbTransaction transaction, Guid projectId,
        Guid environmentId, CancellationToken ct, bool lockGraph = false)
    {
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(CatalogSql,
            new { ProjectId = projectId, EnvironmentId = environmentId, LockGraph = lockGraph }, transaction, cancellationToken: ct));
        await results.ReadAsync<Guid>();
        var flags = (await results.ReadAsync<CatalogFlagRow>())
            .ToDictionary(f => f.Key, f => new CatalogFlag(f.Id, f.Key, f.ValueType, f.VariantList.Split(',')), StringComparer.Ordinal);
        var segments = (await results.ReadAsync<string>()).ToHashSet(StringComparer.Ordinal);
        var edges = (await results.ReadAsync<EdgeRow>()).Select(e => (e.Flag, e.Required)).ToArray();
        return new FlagCatalog(flags, segments, edges);
    }

    // Replaces the flag's state in the environment with `config`: the state row (its version goes up
    // by one), its prerequisites, and its rules (kept by id, so a rule's id and created_at survive
    // an edit; rules not in the list are deleted; a rule id of another flag or environment is
    // refused by the primary key rather than moved). The config must come from FlagConfigInput.
    private const string WriteSql = """
        UPDATE flag_environments
           SET enabled = @Enabled, rollout_percentage = @RolloutPercentage, off_variant = @OffVariant,
               serve = CAST(@Serve AS jsonb), version = version + 1, updated_at = now()
         WHERE environment_id = @EnvironmentId AND flag_id = @FlagId;
        DELETE FROM flag_prerequisites WHERE environment_id = @EnvironmentId AND flag_id = @FlagId;
        INSERT INTO flag_prerequisites (environment_id, flag_id, position, required_flag_id, variant)
        SELECT @EnvironmentId, @FlagId, u.position, f.id, u.variant
          FROM unnest(CAST(@PrerequisiteFlags AS text[]), CAST(@PrerequisiteVariants AS text[])) WITH ORDINALITY AS u(flag, variant, position)
          JOIN feature_flags f ON f.project_id = @ProjectId AND f.key = u.flag;
        DELETE FROM targeting_rules WHERE environment_id = @EnvironmentId AND flag_id = @FlagId AND id <> ALL(@RuleIds);
        INSERT INTO targeting_rules AS r (id, flag_id, environment_id, rule_type, rule_value, conditions, rollout_percentage, enabled,
                                          priority, serve, created_at)
        SELECT u.id, @FlagId, @EnvironmentId, u.rule_type, u.rule_value, CAST(u.conditions AS jsonb), u.rollout_percentage,
               u.enabled, u.priority, CAST(u.serve AS jsonb), COALESCE(u.created_at, clock_timestamp())
          FROM unnest(CAST(@RuleIds AS uuid[]), CAST(@RuleTypes AS text[]), CAST(@RuleValues AS text[]), CAST(@RuleConditions AS text[]),
                      CAST(@RuleRollouts AS integer[]), CAST(@RuleEnabled AS boolean[]), CAST(@RulePriorities AS integer[]),
                      CAST(@RuleServes AS text[]), CAST(@RuleCreatedAt AS timestamptz[]))
               AS u(id, rule_type, rule_value, conditions, rollout_percentage, enabled, priority, serve, created_at)
        ON CONFLICT (id) DO UPDATE
           SET rule_type = EXCLUDED.rule_type, rule_value = EXCLUDED.rule_value, conditions = EXCLUDED.conditions,
               rollout_percentage = EXCLUDED.rollout_percentage, enabled = EXCLUDED.enabled, priority = EXCLUDED.priority,
               serve = EXCLUDED.serve,
               updated_at = CASE WHEN (r.rule_type, r.rule_value, r.conditions, r.rollout_percentage, r.enabled, r.priority, r.serve)
                                      IS DISTINCT FROM (EXCLUDED.rule_type, EXCLUDED.rule_value, EXCLUDED.conditions,
                                                        EXCLUDED.rollout_percentage, EXCLUDED.enabled, EXCLUDED.priority, EXCLUDED.serve)
                                 THEN now() ELSE r.updated_at END
         WHERE r.flag_id = EXCLUDED.flag_id AND r.environment_id = EXCLUDED.environment_id;
        """;

    public static Task WriteAsync(DbConnection connection, DbTransaction transaction, Guid projectId, Guid environmentId, Guid flagId,
        FlagConfig config, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(WriteSql, new
        {
            ProjectId = projectId, EnvironmentId = environmentId, FlagId = flagId,
            config.Enabled, config.RolloutPercentage, config.OffVariant,
            Serve = config.Serve is null ? null : FlagConfigJson.Serialize(config.Serve),
            PrerequisiteFlags = config.Prerequisites.Select(p => p.Flag).ToArray(),
            PrerequisiteVariants = config.Prerequisites.Select(p => p.Variant).ToArray(),
            RuleIds = config.Rules.Select(r => r.Id).ToArray(),
            RuleTypes = config.Rules.Select(r => r.RuleType).ToArray(),
            RuleValues = config.Rules.Select(r => r.RuleValue).ToArray(),
            RuleConditions = config.Rules.Select(r => r.Conditions?.GetRawText()).ToArray(),
            RuleRollouts = config.Rules.Select(r => r.RolloutPercentage).ToArray(),
            RuleEnabled = config.Rules.Select(r => r.Enabled).ToArray(),
            RulePriorities = config.Rules.Select(r => r.Priority).ToArray(),
            RuleServes = config.Rules.Select(r => r.Serve is null ? null : FlagConfigJson.Serialize(r.Serve)).ToArray(),
            RuleCreatedAt = config.Rules.Select(r => r.CreatedAt?.UtcDateTime).ToArray(),
        }, transaction, cancellationToken: ct));

    // A new flag: its definition, and its initial state (FlagConfig.Initial) in every environment of
    // the project. The project row is share-locked, and CreateEnvironment locks it exclusively, so
    // a flag and an environment created at the same time still get their state row. The unique
    // (project_id, key) constraint settles concurrent creates of one key.
    private const string CreateSql = """
        SELECT 1 FROM projects WHERE id = @ProjectId FOR SHARE;
        WITH flag AS (
            INSERT INTO feature_flags (project_id, name, key, description, value_type)
            VALUES (@ProjectId, @Name, @Key, @Description, @ValueType)
            RETURNING id, project_id),
        states AS (
            INSERT INTO flag_environments (project_id, flag_id, environment_id, enabled, rollout_percentage, off_variant, serve)
            SELECT flag.project_id, flag.id, e.id, @Enabled, @RolloutPercentage, @OffVariant, CAST(@Serve AS jsonb)
              FROM flag JOIN environments e ON e.project_id = flag.project_id)
        SELECT id FROM flag;
        """;

    public static async Task<Guid> CreateAsync(DbConnection connection, DbTransaction transaction, Guid projectId, FlagSpec spec,
        CancellationToken ct)
    {
        var initial = FlagConfig.Initial(spec);
        Guid flagId;
        await using (var results = await connection.QueryMultipleAsync(new CommandDefinition(CreateSql, new
        {
            ProjectId = projectId, spec.Name, spec.Key, spec.Description, spec.ValueType,
            initial.Enabled, initial.RolloutPercentage, initial.OffVariant,
            Serve = initial.Serve is null ? null : FlagConfigJson.Serialize(initial.Serve),
        }, transaction, cancellationToken: ct)))
        {
            await results.ReadAsync<int>();
            flagId = await results.ReadSingleAsync<Guid>();
        }
        await WriteVariantsAsync(connection, transaction, flagId, spec, ct);
        return flagId;
    }

    // Replaces the flag's project-level definition (its key and value type never change).
    private const string WriteSpecSql = """
        UPDATE feature_flags SET name = @Name, description = @Description, updated_at = now() WHERE id = @FlagId;
        DELETE FROM flag_variants WHERE flag_id = @FlagId;
        """;

    private const string InsertVariantsSql = """
        INSERT INTO flag_variants (flag_id, key, position, value, name, description)
        SELECT @FlagId, u.key, u.position - 1, CAST(u.value AS json), u.name, u.description
          FROM unnest(CAST(@Keys AS text[]), CAST(@Values AS text[]), CAST(@Names AS text[]), CAST(@Descriptions AS text[]))
               WITH ORDINALITY AS u(key, value, name, description, position)
        """;

    public static async Task WriteSpecAsync(DbConnection connection, DbTransaction transaction, Guid flagId, FlagSpec spec, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition(WriteSpecSql, new { FlagId = flagId, spec.Name, spec.Description },
            transaction, cancellationToken: ct));
        await WriteVariantsAsync(connection, transaction, flagId, spec, ct);
    }

    private static Task WriteVariantsAsync(DbConnection connection, DbTransaction transaction, Guid flagId, FlagSpec spec, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(InsertVariantsSql, new
        {
            FlagId = flagId,
            Keys = spec.Variants.Select(v => v.Key).ToArray(),
            Values = spec.Variants.Select(v => v.Value.GetRawText()).ToArray(),
            Names = spec.Variants.Select(v => v.Name).ToArray(),
            Descriptions = spec.Variants.Select(v => v.Description).ToArray(),
        }, transaction, cancellationToken: ct));

    // The engine's input (Features/Evaluation) from the stored shape.
    public static FlagDefinition ToDefinition(Guid flagId, FlagSpec spec, FlagConfig config) => new(
        flagId, spec.Key, config.Enabled, config.RolloutPercentage,
        [.. config.Rules.Select(r => new RuleDefinition(r.Id, r.RuleType, r.RuleValue, r.Conditions?.GetRawText(), r.RolloutPercentage,
            r.Enabled, r.Priority, (r.CreatedAt ?? DateTimeOffset.UnixEpoch).UtcDateTime,
            r.Serve is null ? null : FlagConfigJson.Serialize(r.Serve)))],
        spec.ValueType, [.. spec.Variants.Select(v => new VariantDefinition(v.Key, v.Value.GetRawText()))],
        config.OffVariant, config.Serve is null ? null : FlagConfigJson.Serialize(config.Serve),
        [.. config.Prerequisites.Select(p => new PrerequisiteDefinition(p.Flag, p.Variant))]);
}
