using Dapper;
using FlagService.Features.Projects;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Environments.Get;

public static class GetEnvironment
{
    public static RouteHandlerBuilder MapGetEnvironment(this IEndpointRouteBuilder environments) =>
        environments.MapGet("/{env}", HandleAsync).WithName(nameof(GetEnvironment));

    private const string Sql = $"{EnvironmentsEndpoints.Select} AND e.id = @EnvironmentId";

    // The scope found {env} in the project; NotFound: it was deleted since.
    internal static async Task<Results<Ok<EnvironmentResponse>, NotFound>> HandleAsync(ProjectScope scope, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var environment = await connection.QuerySingleOrDefaultAsync<EnvironmentResponse>(new CommandDefinition(Sql,
            new { scope.ProjectId, scope.EnvironmentId }, cancellationToken: ct));
        return environment is null ? TypedResults.NotFound() : TypedResults.Ok(environment.For(scope.Role));
    }
}
