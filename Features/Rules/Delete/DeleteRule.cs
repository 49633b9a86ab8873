using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Delete;

public static class DeleteRule
{
    public static RouteHandlerBuilder MapDeleteRule(this IEndpointRouteBuilder rules) =>
        rules.MapDelete("/{ruleId}", HandleAsync);

    internal static async Task<Results<NoContent, NotFound>> HandleAsync(
        ProjectScope scope, PathId flagId, PathId ruleId, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var stored = await FlagConfigStore.ReadAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, ct);
        if (stored?.Config.Rule(ruleId.Value) is null)
        {
            return TypedResults.NotFound();
        }
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Rule, scope.ProjectId, ruleId.Value, null, ct);
        await FlagConfigStore.WriteAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value,
            stored.Config with { Rules = [.. stored.Config.Rules.Where(r => r.Id != ruleId.Value)] }, ct);
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "rule.deleted", AuditResources.Rule, ruleId.Value, ct,
            before, scope.EnvironmentId);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.NoContent();
    }
}
