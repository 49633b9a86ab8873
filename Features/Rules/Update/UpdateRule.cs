using System.Security.Claims;
using System.Text.Json;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Update;

public static class UpdateRule
{
    // Omitted or null fields keep their value. A different `rule_type` changes the rule's type; it
    // is then validated as a rule of the new type (its rule_value or conditions must fit it).
    public sealed record UpdateRuleRequest(
        string? RuleType = null, string? RuleValue = null, Conditions? Conditions = null, bool? Enabled = null,
        int? Priority = null, int? RolloutPercentage = null, ServeRequest? Serve = null);

    public static RouteHandlerBuilder MapUpdateRule(this IEndpointRouteBuilder rules) =>
        rules.MapPut("/{ruleId}", HandleAsync);

    private sealed record Current(string RuleType, string? RuleValue, string? Conditions, string ValueType, string VariantList)
    {
        public string[] Variants => VariantList.Split(',');
    }

    // Read under a row lock, so the validation below cannot go stale before the write.
    private const string CurrentSql = $"""
        SELECT t.rule_type, t.rule_value, t.conditions::text, f.value_type,
               (SELECT string_agg(v.key, ',' ORDER BY v.position) FROM flag_variants v WHERE v.flag_id = f.id) AS variant_list
          FROM targeting_rules t JOIN feature_flags f ON f.id = t.flag_id
         WHERE t.id = @RuleId AND t.id IN (SELECT r.id FROM ({RulesEndpoints.Select}) r)
           FOR UPDATE OF t, f
        """;

    private const string Sql = $"""
        UPDATE targeting_rules r
           SET rule_type = @RuleType,
               rule_value = @RuleValue,
               conditions = CAST(@Conditions AS jsonb),
               enabled = COALESCE(@Enabled, r.enabled),
               priority = COALESCE(@Priority, r.priority),
               rollout_percentage = COALESCE(@RolloutPercentage, r.rollout_percentage),
               serve = COALESCE(CAST(@Serve AS jsonb), r.serve),
               updated_at = now()
         WHERE r.id = @RuleId;
        {RulesEndpoints.Select} AND r.id = @RuleId;
        """;

    internal static async Task<Results<Ok<RuleResponse>, NotFound, ValidationProblem>> HandleAsync(
        PathId projectId, EnvironmentRef env, PathId flagId, PathId ruleId, UpdateRuleRequest request, ClaimsPrincipal user,
        NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        var scope = new
        {
            ProjectId = projectId.Value, FlagId = flagId.Value, RuleId = ruleId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
        };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var current = await connection.QuerySingleOrDefaultAsync<Current>(new CommandDefinition(CurrentSql, scope, transaction, cancellationToken: ct));
        if (current is null)
        {
            return TypedResults.NotFound();
        }

        var (errors, type, value, conditions) = Merge(request, current);
        var (rollout, serve) = Variants.RuleServe(errors, current.ValueType, current.Variants, request.RolloutPercentage, request.Serve, required: false);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        if (type == RuleTypes.Segment && (value != current.RuleValue || type != current.RuleType)
            && await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(RulesEndpoints.SegmentExists,
                new { scope.ProjectId, Key = value }, transaction, cancellationToken: ct)) is null)
        {
            return TypedResults.ValidationProblem(RulesEndpoints.UnknownSegment(value!));
        }

        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Rule, scope.ProjectId, scope.RuleId, null, ct);
        var rule = await connection.QuerySingleAsync<RuleRow>(new CommandDefinition(Sql, new
        {
            scope.ProjectId, scope.FlagId, scope.RuleId, scope.UserId, scope.EnvId, scope.EnvKey,
            RuleType = type, RuleValue = value, Conditions = conditions,
            request.Enabled, request.Priority, RolloutPercentage = rollout, Serve = serve,
        }, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, user, scope.ProjectId, "rule.updated", AuditResources.Rule, rule.Id, ct,
            before, environment: rule.Environment);
        await transaction.CommitAsync(ct);
        changes.Publish(projectId.Value);
        return TypedResults.Ok(rule.ToResponse());
    }

    private static bool HasConditions(UpdateRuleRequest request) => request.Conditions is { IsPresent: true };

    // The rule as it will be written: the request's fields over the current ones. Fields the
    // request sends are validated; a new type validates the whole rule, since what was valid for
    // the old type (a user id as an email, say) may not be for the new one.
    private static (FieldErrors Errors, string Type, string? Value, string? Conditions) Merge(UpdateRuleRequest request, Current current)
    {
        var errors = new FieldErrors();
        if (request is { RuleType: null, RuleValue: null, Enabled: null, Priority: null, RolloutPercentage: null, Serve: null } && !HasConditions(request))
        {
            errors.Add("body", "must contain at least one of: rule_type, rule_value, conditions, enabled, priority, rollout_percentage, serve");
        }

        var type = request.RuleType ?? current.RuleType;
        var typeChanged = type != current.RuleType;
        if (type == RuleTypes.AttributeMatch)
        {
            var conditions = HasConditions(request) ? request.Conditions!.Json
                : typeChanged ? (JsonElement?)null
                : current.Conditions is null ? null : JsonDocument.Parse(current.Conditions).RootElement;
            if (request.RuleValue is not null)
            {
                errors.Add("rule_value", "must be null for an attribute_match rule (it uses conditions)");
            }
            if (HasConditions(request) || typeChanged)
            {
                errors.Merge(RuleValidation.ValidateRule(type, null, conditions));
            }
            return (errors, type, null, errors.Any || conditions is null ? null : RuleValidation.NormalizeConditions(conditions.Value));
        }

        var value = request.RuleValue ?? (typeChanged && current.RuleType == RuleTypes.AttributeMatch ? null : current.RuleValue);
        if (request.RuleValue is not null || typeChanged)
        {
            errors.Merge(RuleValidation.ValidateRule(type, value, HasConditions(request) ? request.Conditions!.Json : null));
        }
        else if (HasConditions(request))
        {
            errors.Add("conditions", "must be null unless rule_type is attribute_match");
        }
        return (errors, type, value is null || errors.Any ? value : RuleValidation.NormalizeRuleValue(value), null);
    }
}
