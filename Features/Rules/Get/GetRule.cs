using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Get;

public static class GetRule
{
    public static RouteHandlerBuilder MapGetRule(this IEndpointRouteBuilder rules) =>
        rules.MapGet("/{ruleId}", HandleAsync).WithName(nameof(GetRule));

    private const string Sql = $"""
        SELECT {RulesEndpoints.Columns}
          FROM targeting_rules r, feature_flags f, projects p
         WHERE r.id = @RuleId AND {RulesEndpoints.OwnedBy}
        """;

    internal static async Task<Results<Ok<RuleResponse>, NotFound>> HandleAsync(
        Guid projectId, Guid flagId, Guid ruleId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var rule = await connection.QuerySingleOrDefaultAsync<RuleRow>(new CommandDefinition(Sql,
            new { ProjectId = projectId, FlagId = flagId, RuleId = ruleId, UserId = user.UserId() }, cancellationToken: ct));
        return rule is null ? TypedResults.NotFound() : TypedResults.Ok(rule.ToResponse());
    }
}
