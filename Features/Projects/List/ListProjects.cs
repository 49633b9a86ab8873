using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using Npgsql;

namespace FlagService.Features.Projects.List;

public static class ListProjects
{
    public static RouteHandlerBuilder MapListProjects(this IEndpointRouteBuilder projects) =>
        projects.MapGet("/", HandleAsync).WithName(nameof(ListProjects));

    private const string Sql = $"{ProjectsEndpoints.Select} ORDER BY p.created_at DESC, p.id DESC";

    internal static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<ProjectResponse[]>> HandleAsync(
        ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var projects = await connection.QueryAsync<ProjectResponse>(
            new CommandDefinition(Sql, new { UserId = user.UserId(), ProjectCap = user.TokenProject() }, cancellationToken: ct));
        return TypedResults.Ok(projects.ToArray());
    }
}
