using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Projects.Delete;

public static class DeleteProject
{
    public static RouteHandlerBuilder MapDeleteProject(this IEndpointRouteBuilder projects) =>
        projects.MapDelete("/{projectId}", HandleAsync).WithName(nameof(DeleteProject));

    // Environments, flags, rules and analytics go with it through ON DELETE CASCADE.
    private const string Sql = """
        DELETE FROM projects p USING user_projects(@UserId) m
         WHERE p.id = @ProjectId AND m.project_id = p.id
        """;

    internal static async Task<Results<NoContent, NotFound>> HandleAsync(
        PathId projectId, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Project, projectId.Value, projectId.Value, null, ct);
        var deleted = await connection.ExecuteAsync(
            new CommandDefinition(Sql, new { ProjectId = projectId.Value, UserId = user.UserId() }, transaction, cancellationToken: ct));
        if (deleted == 0)
        {
            return TypedResults.NotFound();
        }
        // The entry outlives the project (audit_log has no foreign key to it).
        await AuditTrail.RecordAsync(connection, transaction, user, projectId.Value, "project.deleted", AuditResources.Project, projectId.Value, ct, before);
        await transaction.CommitAsync(ct);
        changes.Publish(projectId.Value);
        return TypedResults.NoContent();
    }
}
