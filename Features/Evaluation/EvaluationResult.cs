namespace FlagService.Features.Evaluation;

public enum EvaluationReason
{
    Disabled,
    RuleMatch,
    Rollout,
    RolloutExcluded,
}

// RuleId is the rule that decided (RuleMatch only). IdentifierMissing is true when the answer fell
// to "no identifier" on a percentage strictly between 0 and 100; OFREP reports it as TARGETING_KEY_MISSING.
public readonly record struct EvaluationResult(
    bool Value,
    EvaluationReason Reason,
    Guid? RuleId = null,
    bool IdentifierMissing = false);

public static class EvaluationReasonExtensions
{
    public static string ToWire(this EvaluationReason reason) => reason switch
    {
        EvaluationReason.Disabled => "disabled",
        EvaluationReason.RuleMatch => "rule_match",
        EvaluationReason.Rollout => "rollout",
        EvaluationReason.RolloutExcluded => "rollout_excluded",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
