using Dapper;
using FlagService.Features.Projects;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.List;

public static class ListFlags
{
    public static RouteHandlerBuilder MapListFlags(this IEndpointRouteBuilder flags) =>
        flags.MapGet("/", HandleAsync);

    private const string Sql = $"{FlagsEndpoints.Select} ORDER BY f.created_at DESC, f.id DESC";

    internal static async Task<Ok<FlagResponse[]>> HandleAsync(ProjectScope scope, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var flags = await connection.QueryAsync<FlagRow>(new CommandDefinition(Sql,
            new { scope.ProjectId, scope.EnvironmentId }, cancellationToken: ct));
        return TypedResults.Ok(flags.Select(f => f.ToResponse()).ToArray());
    }
}
