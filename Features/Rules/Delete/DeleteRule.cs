using System.Security.Claims;
using Dapper;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Delete;

public static class DeleteRule
{
    public static RouteHandlerBuilder MapDeleteRule(this IEndpointRouteBuilder rules) =>
        rules.MapDelete("/{ruleId}", HandleAsync).WithName(nameof(DeleteRule));

    private const string Sql = $"""
        DELETE FROM targeting_rules r USING feature_flags f, projects p
         WHERE r.id = @RuleId AND {RulesEndpoints.OwnedBy}
        """;

    internal static async Task<Results<NoContent, NotFound>> HandleAsync(
        Guid projectId, Guid flagId, Guid ruleId, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var deleted = await connection.ExecuteAsync(new CommandDefinition(Sql,
            new { ProjectId = projectId, FlagId = flagId, RuleId = ruleId, UserId = user.UserId() }, cancellationToken: ct));
        if (deleted == 0)
        {
            return TypedResults.NotFound();
        }
        changes.Publish(projectId);
        return TypedResults.NoContent();
    }
}
