namespace FlagService.Features.Evaluation;

// Built once per configuration change; Evaluate only compares (no parsing, sorting, LINQ or regex
// construction), does not allocate, and is safe to call from many threads at once.
public sealed class CompiledFlag
{
    private readonly bool _enabled;
    private readonly int _rolloutPercentage;
    private readonly byte[] _keyPrefix;
    private readonly CompiledRule[] _rules;

    private CompiledFlag(Guid id, string key, bool enabled, int rolloutPercentage, CompiledRule[] rules)
    {
        Id = id;
        Key = key;
        _enabled = enabled;
        _rolloutPercentage = rolloutPercentage;
        _rules = rules;
        _keyPrefix = Bucketing.KeyPrefix(key);
        IsStatic = !enabled || (rules.Length == 0 && rolloutPercentage is 0 or 100);
    }

    // A boolean flag serves one of two variants; analytics count outcomes by variant index.
    public const int OnVariant = 0;
    public const int OffVariant = 1;
    private static readonly string[] BooleanVariants = ["on", "off"];
    private static readonly System.Text.Json.JsonEncodedText[] BooleanEncoded =
        Array.ConvertAll(BooleanVariants, v => System.Text.Json.JsonEncodedText.Encode(v));

    public Guid Id { get; }

    // Variant keys by index.
    public string[] Variants => BooleanVariants;

    public System.Text.Json.JsonEncodedText[] EncodedVariants => BooleanEncoded;

    public string Key { get; }

    // True when no context can change the answer, so callers may cache one result for everyone.
    public bool IsStatic { get; }

    public int RolloutPercentage => _rolloutPercentage;

    public static CompiledFlag Compile(FlagDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var enabledRules = new List<RuleDefinition>(definition.Rules.Count);
        foreach (var rule in definition.Rules)
        {
            if (rule.Enabled)
            {
                enabledRules.Add(rule);
            }
        }

        // Sorted here once so a request walks the array in order and stops at the first match.
        enabledRules.Sort(EvaluationOrder);
        var rules = new CompiledRule[enabledRules.Count];
        for (var i = 0; i < rules.Length; i++)
        {
            rules[i] = CompiledRule.Compile(enabledRules[i]);
        }

        return new CompiledFlag(
            definition.Id, definition.Key, definition.Enabled, Math.Clamp(definition.RolloutPercentage, 0, 100), rules);
    }

    // Highest priority first, then oldest first; the id only makes the order total.
    public static int EvaluationOrder(RuleDefinition a, RuleDefinition b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var c = b.Priority.CompareTo(a.Priority);
        if (c == 0)
        {
            c = a.CreatedAt.CompareTo(b.CreatedAt);
        }

        return c != 0 ? c : a.Id.CompareTo(b.Id);
    }

    // identifier comes from Identifiers.For(context), computed once per request for all flags.
    public EvaluationResult Evaluate(in EvaluationContext context, string? identifier)
    {
        if (!_enabled)
        {
            return new EvaluationResult(false, EvaluationReason.Disabled);
        }

        foreach (var rule in _rules)
        {
            if (rule.Matches(in context))
            {
                var value = InRollout(rule.RolloutPercentage, identifier, out var missing);
                return new EvaluationResult(value, EvaluationReason.RuleMatch, rule.Id, missing);
            }
        }

        var included = InRollout(_rolloutPercentage, identifier, out var identifierMissing);
        return new EvaluationResult(
            included, included ? EvaluationReason.Rollout : EvaluationReason.RolloutExcluded, null, identifierMissing);
    }

    // 0 % and 100 % need no identifier; anything between without one is "off" and flagged as missing.
    private bool InRollout(int percentage, string? identifier, out bool identifierMissing)
    {
        identifierMissing = false;
        if (percentage >= 100)
        {
            return true;
        }

        if (percentage <= 0)
        {
            return false;
        }

        if (string.IsNullOrEmpty(identifier))
        {
            identifierMissing = true;
            return false;
        }

        return Bucketing.Bucket(_keyPrefix, identifier) < percentage;
    }
}
