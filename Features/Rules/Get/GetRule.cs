using FlagService.Features.Flags;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Get;

public static class GetRule
{
    public static RouteHandlerBuilder MapGetRule(this IEndpointRouteBuilder rules) =>
        rules.MapGet("/{ruleId}", HandleAsync);

    internal static async Task<Results<Ok<RuleResponse>, NotFound>> HandleAsync(
        ProjectScope scope, PathId flagId, PathId ruleId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var stored = await FlagConfigStore.ReadAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, ct);
        return stored?.Config.Rule(ruleId.Value) is { } rule
            ? TypedResults.Ok(RulesEndpoints.Response(rule, stored.FlagId, stored.Spec, scope.Environment.Key))
            : TypedResults.NotFound();
    }
}
