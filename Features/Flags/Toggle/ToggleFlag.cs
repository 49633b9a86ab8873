using System.Security.Claims;
using Dapper;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.Toggle;

public static class ToggleFlag
{
    public static RouteHandlerBuilder MapToggleFlag(this IEndpointRouteBuilder flags) =>
        flags.MapPost("/{flagId}/toggle", HandleAsync).WithName(nameof(ToggleFlag));

    // The kill switch. One statement, so concurrent toggles serialise on the row and none is lost.
    private const string Sql = $"""
        UPDATE feature_flags f SET enabled = NOT f.enabled, updated_at = now()
          FROM projects p
         WHERE f.id = @FlagId AND {FlagsEndpoints.OwnedBy}
        RETURNING {FlagsEndpoints.Columns}
        """;

    internal static async Task<Results<Ok<FlagResponse>, NotFound>> HandleAsync(
        Guid projectId, Guid flagId, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var flag = await connection.QuerySingleOrDefaultAsync<FlagResponse>(new CommandDefinition(Sql,
            new { ProjectId = projectId, FlagId = flagId, UserId = user.UserId() }, cancellationToken: ct));
        if (flag is null)
        {
            return TypedResults.NotFound();
        }
        changes.Publish(projectId);
        return TypedResults.Ok(flag);
    }
}
