using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Update;

public static class UpdateRule
{
    // Omitted or null fields keep their value. A different `rule_type` changes the rule's type; the
    // rule is then one of the new type, whose rule_value or conditions must come with the request.
    public sealed record UpdateRuleRequest(
        string? RuleType = null, string? RuleValue = null, Conditions? Conditions = null, bool? Enabled = null,
        int? Priority = null, int? RolloutPercentage = null, ServeRequest? Serve = null)
    {
        public bool IsEmpty => this is { RuleType: null, RuleValue: null, Enabled: null, Priority: null, RolloutPercentage: null, Serve: null }
            && Conditions is not { IsPresent: true };

        // The whole rule as it will be, so that it is validated as a new rule would be.
        public RuleRequest Over(RuleRequest current)
        {
            var typeChanged = RuleType is not null && RuleType != current.RuleType;
            // A value carries over to another type of value rule (and is validated as that type);
            // conditions only belong to attribute_match.
            var valueCarries = !typeChanged || (RuleType != RuleTypes.AttributeMatch && current.RuleType != RuleTypes.AttributeMatch);
            var servedChanged = RolloutPercentage is not null || Serve is not null;
            return new RuleRequest(
                RuleType ?? current.RuleType,
                RuleValue ?? (valueCarries ? current.RuleValue : null),
                Conditions is { IsPresent: true } ? Conditions : typeChanged ? null : current.Conditions,
                Enabled ?? current.Enabled,
                Priority ?? current.Priority,
                servedChanged ? RolloutPercentage : current.RolloutPercentage,
                servedChanged ? Serve : current.Serve);
        }
    }

    public static RouteHandlerBuilder MapUpdateRule(this IEndpointRouteBuilder rules) =>
        rules.MapPut("/{ruleId}", HandleAsync);

    internal static async Task<Results<Ok<RuleResponse>, NotFound, ValidationProblem>> HandleAsync(
        ProjectScope scope, PathId flagId, PathId ruleId, UpdateRuleRequest request, NpgsqlDataSource db, ProjectChanges changes,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var stored = await FlagConfigStore.ReadAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, ct);
        if (stored?.Config.Rule(ruleId.Value) is not { } current)
        {
            return TypedResults.NotFound();
        }

        var errors = new FieldErrors();
        if (request.IsEmpty)
        {
            errors.Add("body", "must contain at least one of: rule_type, rule_value, conditions, enabled, priority, rollout_percentage, serve");
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }
        var catalog = await FlagConfigStore.CatalogAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, ct);
        var merged = request.Over(FlagConfigInput.AsRequest(current, stored.Spec.IsBoolean));
        var rule = FlagConfigInput.Rule(merged, current.Id, stored.Spec, catalog, errors);
        if (rule is null)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Rule, scope.ProjectId, ruleId.Value, null, ct);
        await FlagConfigStore.WriteAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value,
            stored.Config with { Rules = [.. stored.Config.Rules.Select(r => r.Id == current.Id ? rule with { CreatedAt = r.CreatedAt } : r)] }, ct);
        var written = (await FlagConfigStore.ReadAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, ct))!;
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "rule.updated", AuditResources.Rule, rule.Id, ct,
            before, environment: scope.Environment.Key);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.Ok(RulesEndpoints.Response(written.Config.Rule(rule.Id)!, flagId.Value, stored.Spec, scope.Environment.Key));
    }
}
