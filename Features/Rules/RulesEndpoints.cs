using System.Text.Json;
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
    bool Enabled, int Priority, DateTime CreatedAt, DateTime UpdatedAt);

// The database row: conditions arrive as jsonb text and leave as JSON.
public sealed record RuleRow(
    Guid Id, Guid FlagId, string RuleType, string? RuleValue, string? Conditions, int RolloutPercentage,
    bool Enabled, int Priority, DateTime CreatedAt, DateTime UpdatedAt)
{
    public RuleResponse ToResponse() => new(Id, FlagId, RuleType, RuleValue,
        Conditions is null ? null : new Conditions(Normalized(Conditions)),
        RolloutPercentage, Enabled, Priority, CreatedAt, UpdatedAt);

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

    // The rule belongs to the flag in the path, the flag to the project in the path, the project to
    // the caller; anything else is a 404.
    public const string OwnedBy = """
        r.flag_id = @FlagId AND f.id = r.flag_id AND f.project_id = @ProjectId
        AND p.id = f.project_id AND p.created_by = @UserId
        """;

    public static IEndpointRouteBuilder MapRules(this IEndpointRouteBuilder app)
    {
        var rules = app.MapGroup("/api/projects/{projectId}/flags/{flagId}/rules").WithTags("Targeting rules")
            .RequireAuthorization()
            .RequireCors(CorsSettings.ManagementPolicy);
        rules.MapCreateRule();
        rules.MapListRules();
        rules.MapGetRule();
        rules.MapUpdateRule();
        rules.MapDeleteRule();
        return app;
    }
}
