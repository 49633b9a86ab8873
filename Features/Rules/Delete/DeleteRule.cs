using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Delete;

public static class DeleteRule
{
    public static RouteHandlerBuilder MapDeleteRule(this IEndpointRouteBuilder rules) =>
        rules.MapDelete("/{ruleId}", HandleAsync);

    private const string Sql = $"""
        DELETE FROM targeting_rules t
         WHERE t.id = @RuleId AND t.id IN (SELECT r.id FROM ({RulesEndpoints.Select}) r)
        """;

    internal static async Task<Results<NoContent, NotFound>> HandleAsync(
        PathId projectId, EnvironmentRef env, PathId flagId, PathId ruleId, ClaimsPrincipal user, NpgsqlDataSource db,
        ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var environmentId = await AuditTrail.EnvironmentIdAsync(connection, transaction, projectId.Value, env, ct);
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Rule, projectId.Value, ruleId.Value, null, ct);
        var deleted = await connection.ExecuteAsync(new CommandDefinition(Sql, new
        {
            ProjectId = projectId.Value, FlagId = flagId.Value, RuleId = ruleId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
        }, transaction, cancellationToken: ct));
        if (deleted == 0)
        {
            return TypedResults.NotFound();
        }
        await AuditTrail.RecordAsync(connection, transaction, user, projectId.Value, "rule.deleted", AuditResources.Rule, ruleId.Value, ct,
            before, environmentId);
        await transaction.CommitAsync(ct);
        changes.Publish(projectId.Value);
        return TypedResults.NoContent();
    }
}
