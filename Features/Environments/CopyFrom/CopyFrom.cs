using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Environments.CopyFrom;

// Promotion: the target environment's state of some flags (default: all) becomes a copy of the
// source's, in one transaction.
public static class CopyFrom
{
    public sealed record CopyFromRequest(string[]? FlagKeys = null);

    public sealed record CopyFromResponse(string[] Copied);

    public static RouteHandlerBuilder MapCopyFrom(this IEndpointRouteBuilder environments) =>
        environments.MapPost("/{env}/copy-from/{source}", HandleAsync).WithName(nameof(CopyFrom));

    private sealed record Scope(Guid? TargetId, Guid? SourceId);

    private sealed record Flag(Guid Id, string Key);

    // The target row is locked first, so two promotions into one environment take turns.
    private const string ScopeSql = $"""
        SELECT (SELECT e.id FROM environments e WHERE e.project_id = @ProjectId AND {EnvironmentScope.Matches} FOR UPDATE) AS target_id,
               (SELECT s.id FROM environments s WHERE s.project_id = @ProjectId AND (s.id = @SourceEnvId OR s.key = @SourceEnvKey)) AS source_id
        """;

    private const string FlagsSql = "SELECT id, key FROM feature_flags WHERE project_id = @ProjectId ORDER BY key";

    private const string CopySql = $"""
        UPDATE flag_environments t
           SET enabled = s.enabled, rollout_percentage = s.rollout_percentage, off_variant = s.off_variant, serve = s.serve,
               updated_at = now()
          FROM flag_environments s
         WHERE t.environment_id = @TargetId AND s.environment_id = @SourceId AND s.flag_id = t.flag_id
           AND t.flag_id = ANY(@FlagIds);
        DELETE FROM targeting_rules WHERE environment_id = @TargetId AND flag_id = ANY(@FlagIds);
        {EnvironmentScope.CopyRules};
        DELETE FROM flag_prerequisites WHERE environment_id = @TargetId AND flag_id = ANY(@FlagIds);
        {EnvironmentScope.CopyPrerequisites};
        """;

    internal static async Task<Results<Ok<CopyFromResponse>, NotFound, ValidationProblem>> HandleAsync(
        PathId projectId, EnvironmentRef env, string source, CopyFromRequest? request, ClaimsPrincipal user, NpgsqlDataSource db,
        ProjectChanges changes, CancellationToken ct)
    {
        if (request?.FlagKeys is { Length: 0 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["flag_keys"] = ["must not be empty (omit it to copy every flag)"],
            });
        }

        var sourceRef = EnvironmentRef.Parse(source);
        var args = new
        {
            ProjectId = projectId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
            SourceEnvId = sourceRef.Id, SourceEnvKey = sourceRef.Key,
        };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(EnvironmentScope.LockProjectShared, args, transaction, cancellationToken: ct)) is null)
        {
            return TypedResults.NotFound();
        }
        var scope = await connection.QuerySingleAsync<Scope>(new CommandDefinition(ScopeSql, args, transaction, cancellationToken: ct));
        if (scope.TargetId is null || scope.SourceId is null)
        {
            return TypedResults.NotFound();
        }
        if (scope.TargetId == scope.SourceId)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["source"] = ["must differ from the target environment"] });
        }

        var flags = (await connection.QueryAsync<Flag>(new CommandDefinition(FlagsSql, args, transaction, cancellationToken: ct))).ToArray();
        var chosen = flags;
        if (request?.FlagKeys is { } keys)
        {
            var unknown = keys.Where(k => !flags.Any(f => f.Key == k)).Distinct().ToArray();
            if (unknown.Length > 0)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["flag_keys"] = [$"names flags this project does not have: {string.Join(", ", unknown)}"],
                });
            }
            chosen = flags.Where(f => keys.Contains(f.Key)).ToArray();
        }

        await connection.ExecuteAsync(new CommandDefinition(CopySql, new
        {
            scope.TargetId, scope.SourceId, FlagIds = chosen.Select(f => f.Id).ToArray(),
        }, transaction, cancellationToken: ct));
        // Copying some flags' prerequisites beside the target's own may close a cycle or a chain
        // that is too deep: then nothing is copied.
        if (await Prerequisites.CheckAsync(connection, transaction, scope.TargetId.Value, ct) is { } problem)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["flag_keys"] = [$"copying these flags' prerequisites {problem}"] });
        }
        // One entry for the promotion, on the target environment; `resource_key` names the source.
        await AuditTrail.RecordAsync(connection, transaction, user, projectId.Value, "environment.copied_from", AuditResources.Environment,
            scope.TargetId, ct, environmentId: scope.TargetId, resourceKey: source);
        await transaction.CommitAsync(ct);
        changes.Publish(projectId.Value);
        return TypedResults.Ok(new CopyFromResponse(chosen.Select(f => f.Key).ToArray()));
    }
}
