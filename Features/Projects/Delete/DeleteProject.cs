using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using FlagService.Features.Evaluation;
using Npgsql;

namespace FlagService.Features.Projects.Delete;

public static class DeleteProject
{
    public static RouteHandlerBuilder MapDeleteProject(this IEndpointRouteBuilder projects) =>
        projects.MapDelete("/{projectId}", HandleAsync).WithName(nameof(DeleteProject));

    // Flags, rules and analytics go with it through ON DELETE CASCADE.
    private const string Sql = "DELETE FROM projects WHERE id = @ProjectId AND created_by = @UserId";

    internal static async Task<Results<NoContent, NotFound>> HandleAsync(
        Guid projectId, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var deleted = await connection.ExecuteAsync(
            new CommandDefinition(Sql, new { ProjectId = projectId, UserId = user.UserId() }, cancellationToken: ct));
        if (deleted == 0)
        {
            return TypedResults.NotFound();
        }
        changes.Publish(projectId);
        return TypedResults.NoContent();
    }
}
