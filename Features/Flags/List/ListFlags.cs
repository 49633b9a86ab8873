using System.Security.Claims;
using Dapper;
using FlagService.Features.Environments;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.List;

public static class ListFlags
{
    public static RouteHandlerBuilder MapListFlags(this IEndpointRouteBuilder flags) =>
        flags.MapGet("/", HandleAsync);

    // One round trip: whether the environment is one of the caller's (else 404, not an empty
    // list), then the flags.
    private const string Sql = $"""
        SELECT EXISTS (SELECT 1 FROM environments e JOIN user_projects(@UserId) m ON m.project_id = e.project_id
                        WHERE e.project_id = @ProjectId AND {EnvironmentScope.Matches});
        {FlagsEndpoints.Select}
         ORDER BY f.created_at DESC, f.id DESC;
        """;

    internal static async Task<Results<Ok<FlagResponse[]>, NotFound>> HandleAsync(
        PathId projectId, EnvironmentRef env, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(Sql, new
        {
            ProjectId = projectId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
        }, cancellationToken: ct));
        if (!await results.ReadSingleAsync<bool>())
        {
            return TypedResults.NotFound();
        }
        return TypedResults.Ok((await results.ReadAsync<FlagRow>()).Select(f => f.ToResponse()).ToArray());
    }
}
