using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.List;

public static class ListFlags
{
    public static RouteHandlerBuilder MapListFlags(this IEndpointRouteBuilder flags) =>
        flags.MapGet("/", HandleAsync).WithName(nameof(ListFlags));

    // One round trip: whether the caller owns the project (else 404, not an empty list), then the flags.
    private const string Sql = $"""
        SELECT EXISTS (SELECT 1 FROM projects WHERE id = @ProjectId AND created_by = @UserId);
        SELECT {FlagsEndpoints.Columns}
          FROM feature_flags f JOIN projects p ON p.id = f.project_id
         WHERE {FlagsEndpoints.OwnedBy}
         ORDER BY f.created_at DESC, f.id DESC;
        """;

    internal static async Task<Results<Ok<FlagResponse[]>, NotFound>> HandleAsync(
        Guid projectId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(
            new CommandDefinition(Sql, new { ProjectId = projectId, UserId = user.UserId() }, cancellationToken: ct));
        if (!await results.ReadSingleAsync<bool>())
        {
            return TypedResults.NotFound();
        }
        return TypedResults.Ok((await results.ReadAsync<FlagResponse>()).ToArray());
    }
}
