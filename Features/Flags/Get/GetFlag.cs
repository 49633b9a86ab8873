using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.Get;

public static class GetFlag
{
    public static RouteHandlerBuilder MapGetFlag(this IEndpointRouteBuilder flags) =>
        flags.MapGet("/{flagId}", HandleAsync).WithName(nameof(GetFlag));

    private const string Sql = $"""
        SELECT {FlagsEndpoints.Columns}
          FROM feature_flags f JOIN projects p ON p.id = f.project_id
         WHERE f.id = @FlagId AND {FlagsEndpoints.OwnedBy}
        """;

    internal static async Task<Results<Ok<FlagResponse>, NotFound>> HandleAsync(
        Guid projectId, Guid flagId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var flag = await connection.QuerySingleOrDefaultAsync<FlagResponse>(new CommandDefinition(Sql,
            new { ProjectId = projectId, FlagId = flagId, UserId = user.UserId() }, cancellationToken: ct));
        return flag is null ? TypedResults.NotFound() : TypedResults.Ok(flag);
    }
}
