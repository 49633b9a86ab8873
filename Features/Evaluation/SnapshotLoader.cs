using System.Data;
using Dapper;
using FlagService.Features.Flags;
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

    // A flag's definition and its state in one environment, as the views of Migrations/0013 give them.
    private sealed record StateRow(Guid EnvironmentId, Guid FlagId, string Definition, string State);

    private sealed record SegmentRow(Guid Id, string Key, string ConditionsJson);

    private sealed record MemberRow(Guid SegmentId, string List, string Identifier);

    private const string ProjectOfKey = "(SELECT project_id FROM environments WHERE sdk_key = @Key OR server_key = @Key)";

    private const string Sql = $"""
        SELECT id, project_id, key, sdk_key, server_key, is_default FROM environments
         WHERE project_id = {ProjectOfKey}
         ORDER BY is_default DESC, created_at, key;
        SELECT s.environment_id, s.flag_id, d.definition::text AS definition, s.state::text AS state
          FROM flag_states s JOIN flag_definitions d ON d.flag_id = s.flag_id
         WHERE s.project_id = {ProjectOfKey};
        SELECT s.id, s.key, s.conditions::text AS conditions_json FROM segments s WHERE s.project_id = {ProjectOfKey};
        SELECT m.segment_id, m.list, m.identifier
          FROM segment_members m JOIN segments s ON s.id = m.segment_id
         WHERE s.project_id = {ProjectOfKey};
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
            var segments = (await results.ReadAsync<SegmentRow>()).ToArray();
            var members = (await results.ReadAsync<MemberRow>()).ToLookup(m => (m.SegmentId, m.List));
            if (environments.Length == 0)
            {
                return null;
            }

            var statesByEnvironment = states.ToLookup(s => s.EnvironmentId);
            return new ProjectDefinition(environments[0].ProjectId, environments.Select(e => new EnvironmentDefinition(
                e.Id, e.Key, e.SdkKey, e.ServerKey, e.IsDefault,
                statesByEnvironment[e.Id].Select(s => FlagConfigStore.ToDefinition(s.FlagId,
                    FlagConfigJson.Spec(s.Definition), FlagConfigJson.Config(s.State))).ToArray())).ToArray(),
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
