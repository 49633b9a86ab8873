using System.Text.Json;
using System.Text.Json.Serialization;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Flags;

// A flag's configuration, in two parts: what it is in every environment (FlagSpec), and what it
// serves in one (FlagConfig). These are the one shape that routes, schedules, promotion, the audit
// log and the snapshot loader share: read from the views of Migrations/0013 (FlagConfigStore),
// changed only through FlagConfigInput's validator, written only by FlagConfigStore.WriteAsync.
// Their JSON (snake_case) is the views' documents, so adding a field means a column, a line in a
// view and a property here.
public sealed record FlagSpec(string Key, string Name, string? Description, string ValueType, IReadOnlyList<VariantSpec> Variants)
{
    public bool IsBoolean => ValueType == ValueTypes.Boolean;

    public string[] VariantKeys => [.. Variants.Select(v => v.Key)];

    // Other types serve their first variant until told otherwise.
    public string DefaultVariant => Variants[0].Key;
}

public sealed record VariantSpec(string Key, JsonElement Value, string? Name, string? Description);

// A boolean flag serves by RolloutPercentage (Serve and OffVariant are null: on/off are implied);
// other types by Serve and OffVariant. Rules are in evaluation order.
public sealed record FlagConfig(
    bool Enabled, int RolloutPercentage, string? OffVariant, ServeResponse? Serve,
    IReadOnlyList<PrerequisiteResponse> Prerequisites, IReadOnlyList<RuleConfig> Rules, long Version = 0)
{
    // A new flag's state in an environment: disabled, serving off (boolean) or its first variant.
    public static FlagConfig Initial(FlagSpec flag) => flag.IsBoolean
        ? new(false, 0, null, null, [], [])
        : new(false, 0, flag.DefaultVariant, new ServeResponse(flag.DefaultVariant, null), [], []);

    public RuleConfig? Rule(Guid id) => Rules.FirstOrDefault(r => r.Id == id);

    // The rules as copies for another environment: new ids, the same evaluation order. Rules tied
    // on (priority, created_at) evaluate in id order, so ties are moved a microsecond apart.
    public FlagConfig WithCopiedRules()
    {
        var copies = new List<RuleConfig>(Rules.Count);
        foreach (var rule in Rules)
        {
            var createdAt = rule.CreatedAt ?? DateTimeOffset.UtcNow;
            if (copies.Count > 0 && copies[^1] is var last && last.Priority == rule.Priority && createdAt <= last.CreatedAt)
            {
                createdAt = last.CreatedAt!.Value.AddTicks(10);
            }
            copies.Add(rule with { Id = Guid.NewGuid(), CreatedAt = createdAt });
        }
        return this with { Rules = copies };
    }
}

// One targeting rule. Conditions are stored normalized (RuleValidation.NormalizeConditions).
public sealed record RuleConfig(
    Guid Id, string RuleType, string? RuleValue, JsonElement? Conditions, int RolloutPercentage, bool Enabled, int Priority,
    ServeResponse? Serve, DateTimeOffset? CreatedAt = null, DateTimeOffset? UpdatedAt = null);

// The views' documents.
public static class FlagConfigJson
{
    public static readonly JsonSerializerOptions Options = HttpConventions.Configure(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    });

    public static FlagSpec Spec(string json) => JsonSerializer.Deserialize<FlagSpec>(json, Options)!;

    public static FlagConfig Config(string json) => JsonSerializer.Deserialize<FlagConfig>(json, Options)!;

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
