namespace FlagService.Features.Evaluation;

public enum EvaluationReason
{
    Disabled,
    RuleMatch,
    Rollout,
    RolloutExcluded,
    Default,
    PrerequisiteFailed,
}

// Variant is the served variant's index in the flag's Variants; Value whether that counts as on
// (CompiledFlag.IsEnabled). RuleId is the rule that decided (RuleMatch only). IdentifierMissing is
// true when a split had no identifier to place the user; OFREP reports it as TARGETING_KEY_MISSING.
public readonly record struct EvaluationResult(
    int Variant,
    EvaluationReason Reason,
    bool Value,
    Guid? RuleId = null,
    bool IdentifierMissing = false)
{
    // A boolean flag's answer: `on` when true.
    public static EvaluationResult Boolean(bool value, EvaluationReason reason, Guid? ruleId = null, bool IdentifierMissing = false) =>
        new(value ? CompiledFlag.OnVariant : CompiledFlag.OffVariant, reason, value, ruleId, IdentifierMissing);
}

public static class EvaluationReasonExtensions
{
    public static string ToWire(this EvaluationReason reason) => reason switch
    {
        EvaluationReason.Disabled => "disabled",
        EvaluationReason.RuleMatch => "rule_match",
        EvaluationReason.Rollout => "rollout",
        EvaluationReason.RolloutExcluded => "rollout_excluded",
        EvaluationReason.Default => "default",
        EvaluationReason.PrerequisiteFailed => "prerequisite_failed",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    private static readonly Dictionary<string, EvaluationReason> ByWire =
        Enum.GetValues<EvaluationReason>().ToDictionary(r => r.ToWire(), StringComparer.Ordinal);

    // A reason as stored by the analytics (its wire name) back to the enum; null for a name no
    // reason has.
    public static EvaluationReason? FromWire(string wire) => ByWire.TryGetValue(wire, out var reason) ? reason : null;
}

// An outcome is what was served and why: (reason, variant), packed into 16 bits so that a request
// keeps one per flag on the stack and analytics count by it. Three bits of reason leave room for
// the reasons still to come; the variant index (at most 99) takes the rest.
public static class Outcome
{
    public const int ReasonBits = 3;
    public const int ReasonSlots = 1 << ReasonBits;

    public static ushort Of(EvaluationResult result) => Of(result.Reason, result.Variant);

    public static ushort Of(EvaluationReason reason, int variant) => (ushort)((variant << ReasonBits) | (int)reason);

    public static EvaluationReason Reason(int outcome) => (EvaluationReason)(outcome & (ReasonSlots - 1));

    public static int Variant(int outcome) => outcome >> ReasonBits;
}
