using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Projects.Delete;

public static class DeleteProject
{
    public static RouteHandlerBuilder MapDeleteProject(this IEndpointRouteBuilder projects) =>
        projects.MapDelete("/{projectId}", HandleAsync).WithName(nameof(DeleteProject));

    // Environments, flags, rules and analytics go with it through ON DELETE CASCADE.
    private const string Sql = "DELETE FROM projects WHERE id = @ProjectId";

    internal static async Task<Results<NoContent, NotFound>> HandleAsync(
        ProjectScope scope, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Project, scope.ProjectId, scope.ProjectId, null, ct);
        if (await connection.ExecuteAsync(new CommandDefinition(Sql, new { scope.ProjectId }, transaction, cancellationToken: ct)) == 0)
        {
            return TypedResults.NotFound(); // deleted by another request since the scope was resolved
        }
        // The entry outlives the project (audit_log has no foreign key to it).
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "project.deleted", AuditResources.Project, scope.ProjectId, ct, before);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.NoContent();
    }
}
