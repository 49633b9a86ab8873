using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Projects.Get;

public static class GetProject
{
    public static RouteHandlerBuilder MapGetProject(this IEndpointRouteBuilder projects) =>
        projects.MapGet("/{projectId}", HandleAsync).WithName(nameof(GetProject));

    // NotFound: the project was deleted after the scope was resolved.
    internal static async Task<Results<Ok<ProjectResponse>, NotFound>> HandleAsync(ProjectScope scope, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var project = await connection.QuerySingleOrDefaultAsync<ProjectResponse>(
            new CommandDefinition(ProjectsEndpoints.SelectScoped, new { scope.ProjectId, scope.Role }, cancellationToken: ct));
        return project is null ? TypedResults.NotFound() : TypedResults.Ok(project);
    }
}
