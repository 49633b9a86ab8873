using System.Security.Claims;
using Dapper;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Update;

public static class UpdateRule
{
    // Omitted or null fields keep their value. `rule_type` may be sent but must equal the rule's type.
    public sealed record UpdateRuleRequest(
        string? RuleType = null, string? RuleValue = null, Conditions? Conditions = null, bool? Enabled = null,
        int? Priority = null, int? RolloutPercentage = null);

    public static RouteHandlerBuilder MapUpdateRule(this IEndpointRouteBuilder rules) =>
        rules.MapPut("/{ruleId}", HandleAsync).WithName(nameof(UpdateRule));

    // A rule's type never changes, so validating against the type read first cannot go stale.
    private const string TypeSql = $"""
        SELECT r.rule_type FROM targeting_rules r, feature_flags f, projects p
         WHERE r.id = @RuleId AND {RulesEndpoints.OwnedBy}
        """;

    private const string Sql = $"""
        UPDATE targeting_rules r
           SET rule_value = COALESCE(@RuleValue, r.rule_value),
               conditions = COALESCE(CAST(@Conditions AS jsonb), r.conditions),
               enabled = COALESCE(@Enabled, r.enabled),
               priority = COALESCE(@Priority, r.priority),
               rollout_percentage = COALESCE(@RolloutPercentage, r.rollout_percentage),
               updated_at = now()
          FROM feature_flags f, projects p
         WHERE r.id = @RuleId AND {RulesEndpoints.OwnedBy}
        RETURNING {RulesEndpoints.Columns}
        """;

    internal static async Task<Results<Ok<RuleResponse>, NotFound, ValidationProblem>> HandleAsync(
        Guid projectId, Guid flagId, Guid ruleId, UpdateRuleRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        ProjectChanges changes, CancellationToken ct)
    {
        var scope = new { ProjectId = projectId, FlagId = flagId, RuleId = ruleId, UserId = user.UserId() };
        await using var connection = await db.OpenConnectionAsync(ct);
        var ruleType = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(TypeSql, scope, cancellationToken: ct));
        if (ruleType is null)
        {
            return TypedResults.NotFound();
        }

        var errors = Validate(request, ruleType);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var rule = await connection.QuerySingleOrDefaultAsync<RuleRow>(new CommandDefinition(Sql, new
        {
            scope.ProjectId, scope.FlagId, scope.RuleId, scope.UserId,
            RuleValue = request.RuleValue is null ? null : RuleValidation.NormalizeRuleValue(request.RuleValue),
            Conditions = HasConditions(request) ? RuleValidation.NormalizeConditions(request.Conditions!.Json) : null,
            request.Enabled, request.Priority, request.RolloutPercentage,
        }, cancellationToken: ct));
        if (rule is null)
        {
            return TypedResults.NotFound();
        }
        changes.Publish(projectId);
        return TypedResults.Ok(rule.ToResponse());
    }

    private static bool HasConditions(UpdateRuleRequest request) => request.Conditions is { IsPresent: true };

    private static FieldErrors Validate(UpdateRuleRequest request, string ruleType)
    {
        var errors = new FieldErrors();
        if (request is { RuleValue: null, Enabled: null, Priority: null, RolloutPercentage: null } && !HasConditions(request))
        {
            errors.Add("body", "must contain at least one of: rule_value, conditions, enabled, priority, rollout_percentage");
        }
        if (request.RuleType is not null && request.RuleType != ruleType)
        {
            errors.Add("rule_type", "cannot be changed");
        }

        if (ruleType == RuleTypes.AttributeMatch)
        {
            if (request.RuleValue is not null)
            {
                errors.Add("rule_value", "must be null for an attribute_match rule (it uses conditions)");
            }
            if (HasConditions(request))
            {
                errors.Merge(RuleValidation.ValidateConditions(request.Conditions!.Json));
            }
        }
        else
        {
            if (request.RuleValue is not null)
            {
                errors.Merge(RuleValidation.ValidateRuleValue(ruleType, request.RuleValue));
            }
            if (HasConditions(request))
            {
                errors.Add("conditions", "must be null unless rule_type is attribute_match");
            }
        }
        FlagInput.Rollout(errors, request.RolloutPercentage);
        return errors;
    }
}
