using Dapper;
using FlagService.Features.Projects;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Environments.List;

public static class ListEnvironments
{
    public static RouteHandlerBuilder MapListEnvironments(this IEndpointRouteBuilder environments) =>
        environments.MapGet("/", HandleAsync).WithName(nameof(ListEnvironments));

    private const string Sql = $"{EnvironmentsEndpoints.Select} ORDER BY e.is_default DESC, e.created_at, e.key";

    internal static async Task<Ok<EnvironmentResponse[]>> HandleAsync(ProjectScope scope, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var environments = await connection.QueryAsync<EnvironmentResponse>(new CommandDefinition(Sql, new { scope.ProjectId }, cancellationToken: ct));
        return TypedResults.Ok(environments.Select(e => e.For(scope.Role)).ToArray());
    }
}
