using FlagService.Features.Flags;
using FlagService.Features.Rules.Create;
using FlagService.Features.Rules.Delete;
using FlagService.Features.Rules.Get;
using FlagService.Features.Rules.List;
using FlagService.Features.Rules.Update;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Rules;

// rollout_percentage is a boolean flag's rule's; every rule shows what it serves in `serve`.
public sealed record RuleResponse(
    Guid Id, Guid FlagId, string RuleType, string? RuleValue, Conditions? Conditions, int? RolloutPercentage,
    bool Enabled, int Priority, DateTime CreatedAt, DateTime UpdatedAt, string Environment, ServeResponse? Serve);

public static class RulesEndpoints
{
    // A rule as the API shows it: a boolean flag's rule by its rollout too, conditions in the
    // documented field order.
    public static RuleResponse Response(RuleConfig rule, Guid flagId, FlagSpec flag, string environment) => new(
        rule.Id, flagId, rule.RuleType, rule.RuleValue,
        rule.Conditions is { } conditions ? Conditions.FromStored(conditions.GetRawText()) : null,
        flag.IsBoolean ? rule.RolloutPercentage : null, rule.Enabled, rule.Priority,
        (rule.CreatedAt ?? DateTimeOffset.UnixEpoch).UtcDateTime, (rule.UpdatedAt ?? rule.CreatedAt ?? DateTimeOffset.UnixEpoch).UtcDateTime,
        environment, flag.IsBoolean ? ServeResponse.Rollout(rule.RolloutPercentage) : rule.Serve);

    public static IEndpointRouteBuilder MapRules(this IEndpointRouteBuilder app)
    {
        Map(app.MapGroup("/api/projects/{projectId}/flags/{flagId}/rules"), "");
        Map(app.MapGroup("/api/projects/{projectId}/environments/{env}/flags/{flagId}/rules"), "InEnvironment");
        return app;
    }

    private static void Map(RouteGroupBuilder rules, string suffix)
    {
        rules.WithTags("Targeting rules").RequireAuthorization().RequireCors(CorsSettings.ManagementPolicy);
        rules.MapCreateRule().WithName(nameof(CreateRule) + suffix).RequireProjectRole(ProjectRoles.Editor);
        rules.MapListRules().WithName(nameof(ListRules) + suffix).RequireProjectRole(ProjectRoles.Viewer);
        rules.MapGetRule().WithName(nameof(GetRule) + suffix).RequireProjectRole(ProjectRoles.Viewer);
        rules.MapUpdateRule().WithName(nameof(UpdateRule) + suffix).RequireProjectRole(ProjectRoles.Editor);
        rules.MapDeleteRule().WithName(nameof(DeleteRule) + suffix).RequireProjectRole(ProjectRoles.Editor);
    }
}
