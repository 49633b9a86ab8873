namespace FlagService.Features.Evaluation;

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
