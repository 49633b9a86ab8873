using System.Data;
using Dapper;
using Npgsql;

namespace FlagService.Features.Evaluation;

// Thrown when a snapshot must be loaded and the database cannot be reached: the SDK answers 503.
public sealed class SnapshotUnavailableException(Exception inner)
    : Exception("The flag configuration cannot be loaded: the database is unreachable.", inner);

// Reads the whole project behind one environment key: every environment, every flag's state there
// and its rules, in one round trip inside one REPEATABLE READ snapshot, so the three result sets
// agree with each other.
public sealed partial class SnapshotLoader(NpgsqlDataSource db, ILogger<SnapshotLoader> logger)
{
    private sealed record EnvironmentRow(Guid Id, Guid ProjectId, string Key, string SdkKey, string ServerKey, bool IsDefault);

    private sealed record StateRow(
        Guid EnvironmentId, Guid FlagId, string Key, string ValueType, bool Enabled, int RolloutPercentage, string? OffVariant,
        string? ServeJson);

    private sealed record VariantRow(Guid FlagId, string Key, string ValueJson);

    private sealed record RuleRow(
        Guid EnvironmentId, Guid FlagId, Guid Id, string RuleType, string? RuleValue, string? ConditionsJson,
        int RolloutPercentage, bool Enabled, int Priority, DateTime CreatedAt, string? ServeJson);

    private sealed record SegmentRow(Guid Id, string Key, string ConditionsJson);

    private sealed record MemberRow(Guid SegmentId, string List, string Identifier);

    private sealed record PrerequisiteRow(Guid EnvironmentId, Guid FlagId, string FlagKey, string Variant);

    private const string ProjectOfKey = "(SELECT project_id FROM environments WHERE sdk_key = @Key OR server_key = @Key)";

    private const string Sql = $"""
        SELECT id, project_id, key, sdk_key, server_key, is_default FROM environments
         WHERE project_id = {ProjectOfKey}
         ORDER BY is_default DESC, created_at, key;
        SELECT s.environment_id, f.id AS flag_id, f.key, f.value_type, s.enabled, s.rollout_percentage, s.off_variant,
               s.serve::text AS serve_json
          FROM feature_flags f JOIN flag_environments s ON s.flag_id = f.id
         WHERE f.project_id = {ProjectOfKey};
        SELECT v.flag_id, v.key, v.value::text AS value_json
          FROM flag_variants v JOIN feature_flags f ON f.id = v.flag_id
         WHERE f.project_id = {ProjectOfKey}
         ORDER BY v.flag_id, v.position;
        SELECT r.environment_id, r.flag_id, r.id, r.rule_type, r.rule_value, r.conditions::text AS conditions_json,
               r.rollout_percentage, r.enabled, r.priority, r.created_at, r.serve::text AS serve_json
          FROM targeting_rules r JOIN feature_flags f ON f.id = r.flag_id
         WHERE f.project_id = {ProjectOfKey};
        SELECT s.id, s.key, s.conditions::text AS conditions_json FROM segments s WHERE s.project_id = {ProjectOfKey};
        SELECT m.segment_id, m.list, m.identifier
          FROM segment_members m JOIN segments s ON s.id = m.segment_id
         WHERE s.project_id = {ProjectOfKey};
        SELECT p.environment_id, p.flag_id, rf.key AS flag_key, p.variant
          FROM flag_prerequisites p JOIN feature_flags rf ON rf.id = p.required_flag_id
         WHERE rf.project_id = {ProjectOfKey}
         ORDER BY p.position;
        """;

    // Null when no environment has this key.
    public async Task<ProjectDefinition?> LoadAsync(string key)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await using var connection = await db.OpenConnectionAsync(timeout.Token);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, timeout.Token);
            await using var results = await connection.QueryMultipleAsync(
                new CommandDefinition(Sql, new { Key = key }, transaction, cancellationToken: timeout.Token));
            var environments = (await results.ReadAsync<EnvironmentRow>()).ToArray();
            var states = (await results.ReadAsync<StateRow>()).ToArray();
            var variants = (await results.ReadAsync<VariantRow>()).ToLookup(v => v.FlagId);
            var rules = (await results.ReadAsync<RuleRow>()).ToLookup(r => (r.EnvironmentId, r.FlagId));
            var segments = (await results.ReadAsync<SegmentRow>()).ToArray();
            var members = (await results.ReadAsync<MemberRow>()).ToLookup(m => (m.SegmentId, m.List));
            var prerequisites = (await results.ReadAsync<PrerequisiteRow>()).ToLookup(p => (p.EnvironmentId, p.FlagId));
            if (environments.Length == 0)
            {
                return null;
            }

            var statesByEnvironment = states.ToLookup(s => s.EnvironmentId);
            return new ProjectDefinition(environments[0].ProjectId, environments.Select(e => new EnvironmentDefinition(
                e.Id, e.Key, e.SdkKey, e.ServerKey, e.IsDefault,
                statesByEnvironment[e.Id].Select(s => new FlagDefinition(s.FlagId, s.Key, s.Enabled, s.RolloutPercentage,
                    rules[(e.Id, s.FlagId)].Select(r => new RuleDefinition(r.Id, r.RuleType, r.RuleValue, r.ConditionsJson,
                        r.RolloutPercentage, r.Enabled, r.Priority, r.CreatedAt, r.ServeJson)).ToArray(),
                    s.ValueType, variants[s.FlagId].Select(v => new VariantDefinition(v.Key, v.ValueJson)).ToArray(),
                    s.OffVariant, s.ServeJson,
                    prerequisites[(e.Id, s.FlagId)].Select(p => new PrerequisiteDefinition(p.FlagKey, p.Variant)).ToArray())).ToArray())).ToArray(),
                segments.Select(g => new SegmentDefinition(g.Key,
                    members[(g.Id, "included")].Select(m => m.Identifier).ToArray(),
                    members[(g.Id, "excluded")].Select(m => m.Identifier).ToArray(), g.ConditionsJson)).ToArray());
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            LogUnavailable(logger, e.Message);
            throw new SnapshotUnavailableException(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot load a project snapshot: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}
