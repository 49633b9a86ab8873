using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

using FlagService.Features.Projects;

namespace FlagService.Features.Environments.List;

public static class ListEnvironments
{
    public static RouteHandlerBuilder MapListEnvironments(this IEndpointRouteBuilder environments) =>
        environments.MapGet("/", HandleAsync).WithName(nameof(ListEnvironments));

    private const string Sql = $"{EnvironmentsEndpoints.Select} ORDER BY e.is_default DESC, e.created_at, e.key";

    // A project always has an environment, so an empty answer means the project is not the caller's.
    internal static async Task<Results<Ok<EnvironmentResponse[]>, NotFound>> HandleAsync(
        PathId projectId, ClaimsPrincipal user, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var environments = (await connection.QueryAsync<EnvironmentResponse>(new CommandDefinition(Sql,
            new { ProjectId = projectId.Value, UserId = user.UserId() }, cancellationToken: ct))).ToArray();
        return environments.Length == 0 ? TypedResults.NotFound() : TypedResults.Ok(environments.Select(e => e.For(http.ProjectRole())).ToArray());
    }
}
