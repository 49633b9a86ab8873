using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Environments;
using FlagService.Features.Evaluation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Projects.RegenerateKey;

public static class RegenerateKey
{
    public static RouteHandlerBuilder MapRegenerateKey(this IEndpointRouteBuilder projects) =>
        projects.MapPost("/{projectId}/regenerate-key", HandleAsync).WithName(nameof(RegenerateKey));

    // The project's v1 key is its default environment's sdk key; the second statement reads the
    // project back with the new key (it sees the first one's write: one batch, one transaction).
    private const string Sql = $"""
        UPDATE environments SET sdk_key = @SdkKey, updated_at = now() WHERE project_id = @ProjectId AND is_default;
        {ProjectsEndpoints.SelectScoped};
        """;

    internal static async Task<Results<Ok<ProjectResponse>, NotFound>> HandleAsync(
        ProjectScope scope, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var project = await connection.QuerySingleOrDefaultAsync<ProjectResponse>(new CommandDefinition(Sql,
            new { scope.ProjectId, scope.Role, SdkKey = EnvironmentKeys.NewSdkKey() }, transaction, cancellationToken: ct));
        if (project is null)
        {
            return TypedResults.NotFound();
        }
        // The keys themselves are secrets: the entry says that they changed, not what they are.
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, project.Id, "project.key_regenerated", AuditResources.Project, project.Id, ct);
        await transaction.CommitAsync(ct);
        // The old key must stop working at once: snapshots are found by key.
        changes.Publish(scope.ProjectId);
        return TypedResults.Ok(project);
    }
}
