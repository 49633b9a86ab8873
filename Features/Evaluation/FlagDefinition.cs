namespace FlagService.Features.Evaluation;

// What evaluation reads from the database, as the loader maps it: a project's environments, each
// with every flag's state there and that state's rules.
public sealed record ProjectDefinition(Guid ProjectId, IReadOnlyList<EnvironmentDefinition> Environments);

public sealed record EnvironmentDefinition(
    Guid Id, string Key, string SdkKey, string ServerKey, bool IsDefault, IReadOnlyList<FlagDefinition> Flags);

public sealed record FlagDefinition(Guid Id, string Key, bool Enabled, int RolloutPercentage, IReadOnlyList<RuleDefinition> Rules);

public sealed record RuleDefinition(
    Guid Id,
    string RuleType,
    string? RuleValue,
    string? ConditionsJson,
    int RolloutPercentage,
    bool Enabled,
    int Priority,
    DateTime CreatedAt);
