using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Features.Projects;
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

    // The target row is locked first, so two promotions into one environment take turns.
    private const string ScopeSql = """
        SELECT id FROM environments WHERE id = @TargetId FOR UPDATE;
        SELECT id FROM environments WHERE project_id = @ProjectId AND (id = @SourceEnvId OR key = @SourceEnvKey);
        """;

    internal static async Task<Results<Ok<CopyFromResponse>, NotFound, ValidationProblem>> HandleAsync(
        ProjectScope scope, string source, CopyFromRequest? request, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        if (request?.FlagKeys is { Length: 0 })
        {
            return TypedResults.ValidationProblem(new FieldErrors().Add("flag_keys", "must not be empty (omit it to copy every flag)").ToDictionary());
        }

        var sourceRef = EnvironmentRef.Parse(source);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        Guid? sourceId;
        await using (var results = await connection.QueryMultipleAsync(new CommandDefinition(ScopeSql, new
        {
            scope.ProjectId, TargetId = scope.EnvironmentId, SourceEnvId = sourceRef.Id, SourceEnvKey = sourceRef.Key,
        }, transaction, cancellationToken: ct)))
        {
            await results.ReadAsync<Guid>();
            sourceId = await results.ReadSingleOrDefaultAsync<Guid?>();
        }
        if (sourceId is null)
        {
            return TypedResults.NotFound();
        }
        if (sourceId == scope.EnvironmentId)
        {
            return TypedResults.ValidationProblem(new FieldErrors().Add("source", "must differ from the target environment").ToDictionary());
        }

        // Each flag's configuration in the source, written over the target's by the one writer.
        var flags = (await FlagConfigStore.ReadEnvironmentAsync(connection, transaction, scope.ProjectId, sourceId.Value, ct))
            .OrderBy(f => f.Spec.Key, StringComparer.Ordinal).ToArray();
        var chosen = flags;
        if (request?.FlagKeys is { } keys)
        {
            var unknown = keys.Where(k => !flags.Any(f => f.Spec.Key == k)).Distinct().ToArray();
            if (unknown.Length > 0)
            {
                return TypedResults.ValidationProblem(new FieldErrors()
                    .Add("flag_keys", $"names flags this project does not have: {string.Join(", ", unknown)}").ToDictionary());
            }
            chosen = [.. flags.Where(f => keys.Contains(f.Spec.Key))];
        }
        foreach (var flag in chosen)
        {
            await FlagConfigStore.WriteAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flag.FlagId,
                flag.Config.WithCopiedRules(), ct);
        }
        // Copying some flags' prerequisites beside the target's own may close a cycle or a chain
        // that is too deep: then nothing is copied.
        if (await Prerequisites.CheckAsync(connection, transaction, scope.EnvironmentId, ct) is { } problem)
        {
            return TypedResults.ValidationProblem(new FieldErrors().Add("flag_keys", $"copying these flags' prerequisites {problem}").ToDictionary());
        }
        // One entry for the promotion, on the target environment; `resource_key` names the source.
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "environment.copied_from", AuditResources.Environment,
            scope.EnvironmentId, ct, environmentId: scope.EnvironmentId, resourceKey: source);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.Ok(new CopyFromResponse([.. chosen.Select(f => f.Spec.Key)]));
    }
}
