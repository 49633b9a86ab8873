using Dapper;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.Get;

public static class GetFlag
{
    public static RouteHandlerBuilder MapGetFlag(this IEndpointRouteBuilder flags) =>
        flags.MapGet("/{flagId}", HandleAsync);

    private const string Sql = $"{FlagsEndpoints.Select} AND f.id = @FlagId";

    internal static async Task<Results<Ok<FlagResponse>, NotFound>> HandleAsync(
        ProjectScope scope, PathId flagId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var flag = await connection.QuerySingleOrDefaultAsync<FlagRow>(new CommandDefinition(Sql,
            new { scope.ProjectId, scope.EnvironmentId, FlagId = flagId.Value }, cancellationToken: ct));
        return flag is null ? TypedResults.NotFound() : TypedResults.Ok(flag.ToResponse());
    }
}
