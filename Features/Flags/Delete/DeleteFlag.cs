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

    // Rules and analytics go with the flag through ON DELETE CASCADE.
    private const string Sql = $"""
        DELETE FROM feature_flags f USING projects p
         WHERE f.id = @FlagId AND {FlagsEndpoints.OwnedBy}
        """;

    internal static async Task<Results<NoContent, NotFound>> HandleAsync(
        Guid projectId, Guid flagId, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var deleted = await connection.ExecuteAsync(new CommandDefinition(Sql,
            new { ProjectId = projectId, FlagId = flagId, UserId = user.UserId() }, cancellationToken: ct));
        if (deleted == 0)
        {
            return TypedResults.NotFound();
        }
        changes.Publish(projectId);
        return TypedResults.NoContent();
    }
}
