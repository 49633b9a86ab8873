using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.List;

public static class ListRules
{
    public static RouteHandlerBuilder MapListRules(this IEndpointRouteBuilder rules) =>
        rules.MapGet("/", HandleAsync);

    // The order in which evaluation tries them: highest priority first, then oldest first.
    private const string Sql = $"""
        SELECT EXISTS ({RulesEndpoints.State});
        {RulesEndpoints.Select}
         ORDER BY r.priority DESC, r.created_at, r.id;
        """;

    internal static async Task<Results<Ok<RuleResponse[]>, NotFound>> HandleAsync(
        PathId projectId, EnvironmentRef env, PathId flagId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(Sql, new
        {
            ProjectId = projectId.Value, FlagId = flagId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
        }, cancellationToken: ct));
        if (!await results.ReadSingleAsync<bool>())
        {
            return TypedResults.NotFound();
        }
        return TypedResults.Ok((await results.ReadAsync<RuleRow>()).Select(r => r.ToResponse()).ToArray());
    }
}
