using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

using FlagService.Features.Projects;

namespace FlagService.Features.Environments.Get;

public static class GetEnvironment
{
    public static RouteHandlerBuilder MapGetEnvironment(this IEndpointRouteBuilder environments) =>
        environments.MapGet("/{env}", HandleAsync).WithName(nameof(GetEnvironment));

    private const string Sql = $"{EnvironmentsEndpoints.Select} AND {EnvironmentScope.Matches}";

    internal static async Task<Results<Ok<EnvironmentResponse>, NotFound>> HandleAsync(
        PathId projectId, EnvironmentRef env, ClaimsPrincipal user, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var environment = await connection.QuerySingleOrDefaultAsync<EnvironmentResponse>(new CommandDefinition(Sql,
            new { ProjectId = projectId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key }, cancellationToken: ct));
        return environment is null ? TypedResults.NotFound() : TypedResults.Ok(environment.For(http.ProjectRole()));
    }
}
