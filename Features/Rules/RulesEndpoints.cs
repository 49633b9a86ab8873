using System.Text.Json;
using FlagService.Features.Environments;
using FlagService.Features.Evaluation;
using FlagService.Features.Rules.Create;
using FlagService.Features.Rules.Delete;
using FlagService.Features.Rules.Get;
using FlagService.Features.Rules.List;
using FlagService.Features.Rules.Update;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Rules;

public sealed record RuleResponse(
    Guid Id, Guid FlagId, string RuleType, string? RuleValue, Conditions? Conditions, int RolloutPercentage,
    bool Enabled, int Priority, DateTime CreatedAt, DateTime UpdatedAt, string Environment);

// The database row: conditions arrive as jsonb text and leave as JSON.
public sealed record RuleRow(
    Guid Id, Guid FlagId, string RuleType, string? RuleValue, string? Conditions, int RolloutPercentage,
    bool Enabled, int Priority, DateTime CreatedAt, DateTime UpdatedAt, string Environment)
{
    public RuleResponse ToResponse() => new(Id, FlagId, RuleType, RuleValue,
        Conditions is null ? null : new Conditions(Normalized(Conditions)),
        RolloutPercentage, Enabled, Priority, CreatedAt, UpdatedAt, Environment);

    // jsonb reorders object keys; read back in the documented order (attribute, operator, values, ...).
    private static JsonElement Normalized(string conditions)
    {
        var stored = JsonDocument.Parse(conditions).RootElement;
        try
        {
            return JsonDocument.Parse(RuleValidation.NormalizeConditions(stored)).RootElement.Clone();
        }
        catch (ArgumentException)
        {
            return stored.Clone(); // edited by hand into something invalid: shown as stored
        }
    }
}

public static class RulesEndpoints
{
    public const string Columns =
        "r.id, r.flag_id, r.rule_type, r.rule_value, r.conditions::text, r.rollout_percentage, r.enabled, r.priority, r.created_at, r.updated_at";

    // The rules of the flag in the path, in the environment the request means, of the caller's
    // project; anything else is no row, so a 404.
    public const string Select = $"""
        SELECT {Columns}, e.key AS environment
          FROM targeting_rules r
          JOIN feature_flags f ON f.id = r.flag_id
          JOIN user_projects(@UserId) m ON m.project_id = f.project_id
          JOIN environments e ON e.id = r.environment_id
         WHERE r.flag_id = @FlagId AND f.project_id = @ProjectId AND {EnvironmentScope.Matches}
        """;

    // The flag's state in that environment, for statements that add to it or check it exists.
    public const string State = $"""
        SELECT s.flag_id, s.environment_id, e.key AS environment
          FROM flag_environments s
          JOIN feature_flags f ON f.id = s.flag_id
          JOIN user_projects(@UserId) m ON m.project_id = f.project_id
          JOIN environments e ON e.id = s.environment_id
         WHERE s.flag_id = @FlagId AND f.project_id = @ProjectId AND {EnvironmentScope.Matches}
        """;

    public static IEndpointRouteBuilder MapRules(this IEndpointRouteBuilder app)
    {
        Map(app.MapGroup("/api/projects/{projectId}/flags/{flagId}/rules"), "");
        Map(app.MapGroup("/api/projects/{projectId}/environments/{env}/flags/{flagId}/rules"), "InEnvironment");
        return app;
    }

    private static void Map(RouteGroupBuilder rules, string suffix)
    {
        rules.WithTags("Targeting rules").RequireAuthorization().RequireCors(CorsSettings.ManagementPolicy);
        rules.MapCreateRule().WithName(nameof(CreateRule) + suffix);
        rules.MapListRules().WithName(nameof(ListRules) + suffix);
        rules.MapGetRule().WithName(nameof(GetRule) + suffix);
        rules.MapUpdateRule().WithName(nameof(UpdateRule) + suffix);
        rules.MapDeleteRule().WithName(nameof(DeleteRule) + suffix);
    }
}
