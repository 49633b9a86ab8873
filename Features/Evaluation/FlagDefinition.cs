namespace FlagService.Features.Evaluation;

// What evaluation reads from the database, as the loader maps it: a project's environments, each
// with every flag's state there and that state's rules.
public sealed record ProjectDefinition(
    Guid ProjectId, IReadOnlyList<EnvironmentDefinition> Environments, IReadOnlyList<SegmentDefinition>? Segments = null);

// A project's audience: identifiers listed in or out, and attribute conditions (JSON array, AND).
public sealed record SegmentDefinition(
    string Key, IReadOnlyCollection<string> Included, IReadOnlyCollection<string> Excluded, string? ConditionsJson);

public sealed record EnvironmentDefinition(
    Guid Id, string Key, string SdkKey, string ServerKey, bool IsDefault, IReadOnlyList<FlagDefinition> Flags);

// A flag's definition and its state in one environment. Boolean flags serve by RolloutPercentage
// (their variants are always on and off); other types by ServeJson and OffVariant (null: the first
// variant), see Serve.
public sealed record FlagDefinition(
    Guid Id,
    string Key,
    bool Enabled,
    int RolloutPercentage,
    IReadOnlyList<RuleDefinition> Rules,
    string ValueType = ValueTypes.Boolean,
    IReadOnlyList<VariantDefinition>? Variants = null,
    string? OffVariant = null,
    string? ServeJson = null,
    IReadOnlyList<PrerequisiteDefinition>? Prerequisites = null);

// In the same environment, the flag with key FlagKey must serve the variant Variant.
public sealed record PrerequisiteDefinition(string FlagKey, string Variant);

// ValueJson is the variant's value as JSON text.
public sealed record VariantDefinition(string Key, string ValueJson);

public sealed record RuleDefinition(
    Guid Id,
    string RuleType,
    string? RuleValue,
    string? ConditionsJson,
    int RolloutPercentage,
    bool Enabled,
    int Priority,
    DateTime CreatedAt,
    string? ServeJson = null);

public static class ValueTypes
{
    public const string Boolean = "boolean";
    public const string String = "string";
    public const string Number = "number";
    public const string Json = "json";

    public static IReadOnlyList<string> All { get; } = [Boolean, String, Number, Json];

    public const string On = "on";
    public const string Off = "off";

    // The two variants every boolean flag has, in this order (on is index 0).
    public static IReadOnlyList<VariantDefinition> BooleanVariants { get; } =
        [new VariantDefinition(On, "true"), new VariantDefinition(Off, "false")];
}
