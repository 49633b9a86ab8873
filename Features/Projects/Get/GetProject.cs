using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Projects.Get;

public static class GetProject
{
    public static RouteHandlerBuilder MapGetProject(this IEndpointRouteBuilder projects) =>
        projects.MapGet("/{projectId}", HandleAsync).WithName(nameof(GetProject));

    private const string Sql = $"{ProjectsEndpoints.Select} WHERE p.id = @ProjectId";

    internal static async Task<Results<Ok<ProjectResponse>, NotFound>> HandleAsync(
        PathId projectId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var project = await connection.QuerySingleOrDefaultAsync<ProjectResponse>(
            new CommandDefinition(Sql, new { ProjectId = projectId.Value, UserId = user.UserId(), ProjectCap = user.TokenProject() }, cancellationToken: ct));
        return project is null ? TypedResults.NotFound() : TypedResults.Ok(project);
    }
}
