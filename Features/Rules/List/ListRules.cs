using FlagService.Features.Flags;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.List;

public static class ListRules
{
    public static RouteHandlerBuilder MapListRules(this IEndpointRouteBuilder rules) =>
        rules.MapGet("/", HandleAsync);

    // In the order in which evaluation tries them: highest priority first, then oldest first.
    internal static async Task<Results<Ok<RuleResponse[]>, NotFound>> HandleAsync(
        ProjectScope scope, PathId flagId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var stored = await FlagConfigStore.ReadAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, ct);
        return stored is null ? TypedResults.NotFound()
            : TypedResults.Ok(stored.Config.Rules.Select(r => RulesEndpoints.Response(r, stored.FlagId, stored.Spec, scope.Environment.Key)).ToArray());
    }
}
