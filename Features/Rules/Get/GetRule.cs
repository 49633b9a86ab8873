using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Get;

public static class GetRule
{
    public static RouteHandlerBuilder MapGetRule(this IEndpointRouteBuilder rules) =>
        rules.MapGet("/{ruleId}", HandleAsync);

    private const string Sql = $"{RulesEndpoints.Select} AND r.id = @RuleId";

    internal static async Task<Results<Ok<RuleResponse>, NotFound>> HandleAsync(
        PathId projectId, EnvironmentRef env, PathId flagId, PathId ruleId, ClaimsPrincipal user, NpgsqlDataSource db,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var rule = await connection.QuerySingleOrDefaultAsync<RuleRow>(new CommandDefinition(Sql, new
        {
            ProjectId = projectId.Value, FlagId = flagId.Value, RuleId = ruleId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
        }, cancellationToken: ct));
        return rule is null ? TypedResults.NotFound() : TypedResults.Ok(rule.ToResponse());
    }
}
