using FluentAssertions;
using System.Text.Json;
using FlagService.Features.Evaluation;

namespace FlagService.Tests.Evaluation;

internal static class TestData
{
    public static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static FlagDefinition Flag(string key = "flag", bool enabled = true, int rollout = 0, params RuleDefinition[] rules) =>
        new(Guid.NewGuid(), key, enabled, rollout, rules);

    public static FlagDefinition Flag(int rollout, params RuleDefinition[] rules) => Flag("flag", true, rollout, rules);

    public static FlagDefinition Flag(string key, int rollout, params RuleDefinition[] rules) => Flag(key, true, rollout, rules);

    public static RuleDefinition Rule(
        string type,
        string? value,
        int priority = 0,
        int rollout = 100,
        bool enabled = true,
        DateTime? createdAt = null,
        Guid? id = null,
        string? conditions = null) =>
        new(id ?? Guid.NewGuid(), type, value, conditions, rollout, enabled, priority, createdAt ?? T0);

    public static RuleDefinition AttributeRule(string conditionsJson, int priority = 0, int rollout = 100) =>
        Rule(RuleTypes.AttributeMatch, null, priority, rollout, conditions: conditionsJson);

    public static EvaluationContext Context(string? userId = null, string? email = null, string? attributes = null) =>
        new(userId, email, attributes is null ? null : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(attributes));

    public static EvaluationResult Evaluate(FlagDefinition flag, EvaluationContext context) =>
        CompiledFlag.Compile(flag).Evaluate(in context, Identifiers.For(in context));

    // One attribute rule holding the given conditions, on a 0 % flag: true exactly when the rule matched.
    // Asked in every form a context carries attributes in, which must all agree: a dictionary, the
    // request's JSON object (OFREP), and decoded by slot from either (/sdk/v1/evaluate, the .NET client).
    public static bool Matches(string conditionsJson, string? attributes = null, string? userId = null, string? email = null)
    {
        var slots = new AttributeSlots();
        var flag = CompiledFlag.Compile(Flag(rules: AttributeRule(conditionsJson)), new Dictionary<string, CompiledSegment>(), slots);
        bool Matched(EvaluationContext context) =>
            flag.Evaluate(in context, Identifiers.For(in context)).Reason == EvaluationReason.RuleMatch;

        var byDictionary = Matched(Context(userId, email, attributes));
        if (attributes is null)
        {
            return byDictionary;
        }
        using var document = JsonDocument.Parse(attributes);
        var dictionary = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(attributes)!;
        var forms = new Dictionary<string, bool>
        {
            ["dictionary"] = byDictionary,
            ["JSON object"] = Matched(new EvaluationContext(userId, email, new JsonAttributes(document.RootElement))),
            ["decoded from JSON"] = Matched(new EvaluationContext(userId, email, new JsonAttributes(document.RootElement), slots.Read(document.RootElement))),
            ["decoded from a dictionary"] = Matched(new EvaluationContext(userId, email, dictionary, slots.Decode(dictionary))),
        };
        forms.Values.Distinct().Should().ContainSingle($"every form of the attributes {attributes} gives one answer: {string.Join(", ", forms)}");
        return byDictionary;
    }

    public static string Condition(string attribute, string op, string values = "[]", bool negate = false, bool ignoreCase = false) =>
        $$"""[{"attribute":"{{attribute}}","operator":"{{op}}","values":{{values}},"negate":{{Bool(negate)}},"ignore_case":{{Bool(ignoreCase)}}}]""";

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static string Bool(bool value) => value ? "true" : "false";
}
