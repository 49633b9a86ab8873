using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlagService.Features.Evaluation;

// The wire form of one environment's complete evaluation definition (GET /sdk/v1/ruleset and the
// stream's ruleset events). Pure: the .NET client compiles this file too, so the service writes and
// the client reads one schema, and ToDefinition gives back exactly what SnapshotLoader produced.
public sealed record Ruleset(
    string Version, string Environment, IReadOnlyList<RulesetFlag> Flags, IReadOnlyList<RulesetSegment> Segments)
{
    // The version is a digest of the ruleset itself (with an empty version), so every instance that
    // holds the same configuration announces the same version, and nothing else is needed to agree.
    public static SerializedRuleset Serialize(EnvironmentDefinition environment, IReadOnlyList<SegmentDefinition> segments)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(segments);
        var ruleset = new Ruleset("", environment.Key,
            environment.Flags.OrderBy(f => f.Key, StringComparer.Ordinal).Select(RulesetFlag.From).ToArray(),
            segments.OrderBy(s => s.Key, StringComparer.Ordinal).Select(RulesetSegment.From).ToArray());
        var unversioned = JsonSerializer.SerializeToUtf8Bytes(ruleset, RulesetJson.Default.Ruleset);
        var version = Convert.ToHexStringLower(SHA256.HashData(unversioned).AsSpan(0, 16));
        var json = JsonSerializer.SerializeToUtf8Bytes(ruleset with { Version = version }, RulesetJson.Default.Ruleset);
        return new SerializedRuleset(json, version);
    }

    public static Ruleset Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, RulesetJson.Default.Ruleset) ?? throw new JsonException("The ruleset is empty.");

    // Keys are not part of the ruleset (the holder of a server key knows it); the client's snapshot
    // is reached by flag key only.
    public ProjectDefinition ToDefinition() =>
        new(Guid.Empty,
            [new EnvironmentDefinition(Guid.Empty, Environment, "", "", true, Flags.Select(f => f.ToDefinition()).ToArray())],
            Segments.Select(s => s.ToDefinition()).ToArray());
}

public sealed record RulesetFlag(
    string Key, Guid Id, string ValueType, bool Enabled, int RolloutPercentage, IReadOnlyList<RulesetVariant> Variants,
    string? OffVariant, JsonElement? Serve, IReadOnlyList<RulesetRule> Rules, IReadOnlyList<RulesetPrerequisite> Prerequisites)
{
    internal static RulesetFlag From(FlagDefinition f) => new(
        f.Key, f.Id, f.ValueType, f.Enabled, f.RolloutPercentage,
        (f.Variants ?? []).Select(v => new RulesetVariant(v.Key, RulesetJson.Element(v.ValueJson)!.Value)).ToArray(),
        f.OffVariant, RulesetJson.Element(f.ServeJson),
        // The loader's rule order is the database's; the evaluation order makes the bytes stable.
        f.Rules.Order(Comparer<RuleDefinition>.Create(CompiledFlag.EvaluationOrder)).Select(RulesetRule.From).ToArray(),
        (f.Prerequisites ?? []).Select(p => new RulesetPrerequisite(p.FlagKey, p.Variant)).ToArray());

    internal FlagDefinition ToDefinition() => new(
        Id, Key, Enabled, RolloutPercentage, Rules.Select(r => r.ToDefinition()).ToArray(), ValueType,
        Variants.Select(v => new VariantDefinition(v.Key, v.Value.GetRawText())).ToArray(), OffVariant, Serve?.GetRawText(),
        Prerequisites.Select(p => new PrerequisiteDefinition(p.Flag, p.Variant)).ToArray());
}

public sealed record RulesetVariant(string Key, JsonElement Value);

public sealed record RulesetRule(
    Guid Id, string RuleType, string? RuleValue, JsonElement? Conditions, int RolloutPercentage, bool Enabled, int Priority,
    DateTime CreatedAt, JsonElement? Serve)
{
    internal static RulesetRule From(RuleDefinition r) => new(
        r.Id, r.RuleType, r.RuleValue, RulesetJson.Element(r.ConditionsJson), r.RolloutPercentage, r.Enabled, r.Priority,
        r.CreatedAt, RulesetJson.Element(r.ServeJson));

    internal RuleDefinition ToDefinition() => new(
        Id, RuleType, RuleValue, Conditions?.GetRawText(), RolloutPercentage, Enabled, Priority,
        DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc), Serve?.GetRawText());
}

public sealed record RulesetSegment(string Key, IReadOnlyList<string> Included, IReadOnlyList<string> Excluded, JsonElement? Conditions)
{
    internal static RulesetSegment From(SegmentDefinition s) => new(
        s.Key, s.Included.Order(StringComparer.Ordinal).ToArray(), s.Excluded.Order(StringComparer.Ordinal).ToArray(),
        RulesetJson.Element(s.ConditionsJson));

    internal SegmentDefinition ToDefinition() => new(Key, Included.ToArray(), Excluded.ToArray(), Conditions?.GetRawText());
}

public sealed record RulesetPrerequisite(string Flag, string Variant);

// The bytes are built once per snapshot and shared by every request and stream event.
public sealed class SerializedRuleset(byte[] json, string version)
{
    public byte[] Json { get; } = json;
    public string Version { get; } = version;
    public string ETag { get; } = $"\"{version}\"";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(Ruleset))]
public sealed partial class RulesetJson : JsonSerializerContext
{
    internal static JsonElement? Element(string? json)
    {
        if (json is null)
        {
            return null;
        }
        using var document = JsonDocument.Parse(Encoding.UTF8.GetBytes(json));
        return document.RootElement.Clone();
    }
}
