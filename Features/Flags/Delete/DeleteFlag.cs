using System.Security.Claims;
using Dapper;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.Delete;

public static class DeleteFlag
{
    public static RouteHandlerBuilder MapDeleteFlag(this IEndpointRouteBuilder flags) =>
        flags.MapDelete("/{flagId}", HandleAsync).WithName(nameof(DeleteFlag));

    // Rules and counters go with the flag through ON DELETE CASCADE; the flag's entry in each
    // identifier's latest results is removed in the same statement.
    private const string Sql = $"""
        WITH deleted AS (
            DELETE FROM feature_flags f USING projects p
             WHERE f.id = @FlagId AND {FlagsEndpoints.OwnedBy}
            RETURNING f.id, f.project_id),
        forgotten AS (
            UPDATE evaluation_latest l SET results = l.results - d.id::text
              FROM deleted d
             WHERE l.project_id = d.project_id AND (l.results -> d.id::text) IS NOT NULL)
        SELECT count(*) FROM deleted
        """;

    internal static async Task<Results<NoContent, NotFound>> HandleAsync(
        Guid projectId, Guid flagId, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var deleted = await connection.ExecuteScalarAsync<long>(new CommandDefinition(Sql,
            new { ProjectId = projectId, FlagId = flagId, UserId = user.UserId() }, cancellationToken: ct));
        if (deleted == 0)
        {
            return TypedResults.NotFound();
        }
        changes.Publish(projectId);
        return TypedResults.NoContent();
    }
}
