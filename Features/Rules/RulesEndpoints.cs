using System.Text.Json;
using FlagService.Features.Environments;
using FlagService.Features.Evaluation;
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

// The database row: conditions and serve arrive as jsonb text and leave as JSON.
public sealed record RuleRow(
    Guid Id, Guid FlagId, string RuleType, string? RuleValue, string? Conditions, int RolloutPercentage,
    bool Enabled, int Priority, DateTime CreatedAt, DateTime UpdatedAt, string Environment, string ValueType, string? Serve)
{
    public RuleResponse ToResponse()
    {
        var boolean = ValueType == ValueTypes.Boolean;
        return new(Id, FlagId, RuleType, RuleValue, Conditions is null ? null : Rules.Conditions.FromStored(Conditions),
            boolean ? RolloutPercentage : null, Enabled, Priority, CreatedAt, UpdatedAt, Environment,
            boolean ? ServeResponse.Rollout(RolloutPercentage) : ServeResponse.Parse(Serve));
    }
}

// `VariantList` is the flag's variant keys in order, comma-separated (keys never hold a comma).
public sealed record RuleTarget(Guid FlagId, Guid EnvironmentId, string Environment, string ValueType, string VariantList)
{
    public string[] Variants => VariantList.Split(',');
}

public static class RulesEndpoints
{
    public const string Columns =
        "r.id, r.flag_id, r.rule_type, r.rule_value, r.conditions::text, r.rollout_percentage, r.enabled, r.priority, r.created_at, r.updated_at";

    // The rules of the flag in the path, in the environment the request means, of the caller's
    // project; anything else is no row, so a 404.
    public const string Select = $"""
        SELECT {Columns}, e.key AS environment, f.value_type, r.serve::text AS serve
          FROM targeting_rules r
          JOIN feature_flags f ON f.id = r.flag_id
          JOIN user_projects(@UserId) m ON m.project_id = f.project_id
          JOIN environments e ON e.id = r.environment_id
         WHERE r.flag_id = @FlagId AND f.project_id = @ProjectId AND {EnvironmentScope.Matches}
        """;

    // The flag's state in that environment, for statements that add to it or check it exists,
    // with what rules of the flag may serve.
    public const string State = $"""
        SELECT s.flag_id, s.environment_id, e.key AS environment, f.value_type,
               (SELECT string_agg(v.key, ',' ORDER BY v.position) FROM flag_variants v WHERE v.flag_id = f.id) AS variant_list
          FROM flag_environments s
          JOIN feature_flags f ON f.id = s.flag_id
          JOIN user_projects(@UserId) m ON m.project_id = f.project_id
          JOIN environments e ON e.id = s.environment_id
         WHERE s.flag_id = @FlagId AND f.project_id = @ProjectId AND {EnvironmentScope.Matches}
        """;

    // A segment rule names one of the project's segments; the share lock keeps it from being
    // deleted before the rule is written (DeleteSegment locks it exclusively, then looks for rules).
    public const string SegmentExists = "SELECT id FROM segments WHERE project_id = @ProjectId AND key = @Key FOR SHARE";

    public static Dictionary<string, string[]> UnknownSegment(string key) =>
        new() { ["rule_value"] = [$"names no segment of this project ('{key}')"] };

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
