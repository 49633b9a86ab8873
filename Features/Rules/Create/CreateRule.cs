using System.Security.Claims;
using Dapper;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Create;

public static class CreateRule
{
    public sealed record CreateRuleRequest(
        string? RuleType, string? RuleValue = null, Conditions? Conditions = null, bool? Enabled = null, int? Priority = null,
        int? RolloutPercentage = null);

    public static RouteHandlerBuilder MapCreateRule(this IEndpointRouteBuilder rules) =>
        rules.MapPost("/", HandleAsync).WithName(nameof(CreateRule));

    private const string Sql = """
        INSERT INTO targeting_rules (flag_id, rule_type, rule_value, conditions, rollout_percentage, enabled, priority)
        SELECT f.id, @RuleType, @RuleValue, CAST(@Conditions AS jsonb), @RolloutPercentage, @Enabled, @Priority
          FROM feature_flags f JOIN projects p ON p.id = f.project_id
         WHERE f.id = @FlagId AND f.project_id = @ProjectId AND p.created_by = @UserId
        RETURNING id, flag_id, rule_type, rule_value, conditions::text, rollout_percentage, enabled, priority, created_at, updated_at
        """;

    internal static async Task<Results<Created<RuleResponse>, NotFound, ValidationProblem>> HandleAsync(
        Guid projectId, Guid flagId, CreateRuleRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        ProjectChanges changes, CancellationToken ct)
    {
        var errors = new FieldErrors().Merge(RuleValidation.ValidateRule(request.RuleType, request.RuleValue, request.Conditions?.Json));
        FlagInput.Rollout(errors, request.RolloutPercentage);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var attributeRule = request.RuleType == RuleTypes.AttributeMatch;
        await using var connection = await db.OpenConnectionAsync(ct);
        var rule = await connection.QuerySingleOrDefaultAsync<RuleRow>(new CommandDefinition(Sql, new
        {
            ProjectId = projectId,
            FlagId = flagId,
            UserId = user.UserId(),
            request.RuleType,
            RuleValue = attributeRule ? null : RuleValidation.NormalizeRuleValue(request.RuleValue!),
            Conditions = attributeRule ? RuleValidation.NormalizeConditions(request.Conditions!.Json) : null,
            RolloutPercentage = request.RolloutPercentage ?? 100,
            Enabled = request.Enabled ?? true,
            Priority = request.Priority ?? 0,
        }, cancellationToken: ct));
        if (rule is null)
        {
            return TypedResults.NotFound();
        }
        changes.Publish(projectId);
        return TypedResults.Created($"/api/projects/{projectId}/flags/{flagId}/rules/{rule.Id}", rule.ToResponse());
    }
}
