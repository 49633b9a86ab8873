using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.List;

public static class ListRules
{
    public static RouteHandlerBuilder MapListRules(this IEndpointRouteBuilder rules) =>
        rules.MapGet("/", HandleAsync).WithName(nameof(ListRules));

    // The order in which evaluation tries them: highest priority first, then oldest first.
    private const string Sql = $"""
        SELECT EXISTS (SELECT 1 FROM feature_flags f JOIN projects p ON p.id = f.project_id
                        WHERE f.id = @FlagId AND f.project_id = @ProjectId AND p.created_by = @UserId);
        SELECT {RulesEndpoints.Columns}
          FROM targeting_rules r, feature_flags f, projects p
         WHERE {RulesEndpoints.OwnedBy}
         ORDER BY r.priority DESC, r.created_at, r.id;
        """;

    internal static async Task<Results<Ok<RuleResponse[]>, NotFound>> HandleAsync(
        Guid projectId, Guid flagId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(Sql,
            new { ProjectId = projectId, FlagId = flagId, UserId = user.UserId() }, cancellationToken: ct));
        if (!await results.ReadSingleAsync<bool>())
        {
            return TypedResults.NotFound();
        }
        return TypedResults.Ok((await results.ReadAsync<RuleRow>()).Select(r => r.ToResponse()).ToArray());
    }
}
