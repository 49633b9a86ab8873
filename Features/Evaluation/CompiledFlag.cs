using System.Text.Json;

namespace FlagService.Features.Evaluation;

// Built once per configuration change; Evaluate only compares (no parsing, sorting, LINQ or regex
// construction), does not allocate, and is safe to call from many threads at once.
public sealed class CompiledFlag
{
    // A boolean flag's variants, by index.
    public const int OnVariant = 0;
    public const int OffVariant = 1;

    private readonly bool _enabled;
    private readonly int _offVariant;
    private readonly CompiledServe _fallthrough;
    private readonly BucketKey _bucketKey;
    private readonly CompiledRule[] _rules;

    private CompiledFlag(FlagDefinition definition, IReadOnlyList<VariantDefinition> variants, CompiledRule[] rules)
    {
        Id = definition.Id;
        Key = definition.Key;
        ValueType = definition.ValueType;
        IsBoolean = definition.ValueType == ValueTypes.Boolean;
        Variants = variants.Select(v => v.Key).ToArray();
        Values = variants.Select(v => JsonDocument.Parse(v.ValueJson).RootElement.Clone()).ToArray();
        _enabled = definition.Enabled;
        _rules = rules;
        _bucketKey = new BucketKey(definition.Key);
        if (IsBoolean)
        {
            _offVariant = OffVariant;
            _fallthrough = CompiledServe.Rollout(definition.RolloutPercentage);
        }
        else
        {
            var off = Array.IndexOf(Variants, definition.OffVariant);
            _offVariant = off < 0 ? 0 : off;
            _fallthrough = CompiledServe.Parse(definition.ServeJson, Variants, 0);
        }
        Prerequisites = definition.Prerequisites ?? [];
        IsStatic = !_enabled || (rules.Length == 0 && Prerequisites.Count == 0 && _fallthrough.IsFixed);
        IsSplit = _enabled && !_fallthrough.IsFixed;
    }

    public bool Enabled => _enabled;

    // Resolved to flag indexes by the environment's snapshot, which evaluates them first.
    public IReadOnlyList<PrerequisiteDefinition> Prerequisites { get; }

    public Guid Id { get; }

    public string Key { get; }

    public string ValueType { get; }

    public bool IsBoolean { get; }

    // By variant index: keys, and values parsed (their raw text is the JSON as stored).
    public string[] Variants { get; }

    public JsonElement[] Values { get; }

    // True when no context can change the answer, so callers may cache one result for everyone.
    public bool IsStatic { get; }

    // True when the fallthrough splits users between variants (OFREP's SPLIT).
    public bool IsSplit { get; }

    private static readonly IReadOnlyDictionary<string, CompiledSegment> NoSegments = new Dictionary<string, CompiledSegment>();

    // A flag on its own, with a slot table of its own (a snapshot passes the one that its flags and
    // segments share).
    public static CompiledFlag Compile(FlagDefinition definition) => Compile(definition, NoSegments, new AttributeSlots());

    // segments: the project's, by key, for rules of type segment; slots: the snapshot's attribute
    // slot table, which the flag's conditions take their slots from.
    public static CompiledFlag Compile(FlagDefinition definition, IReadOnlyDictionary<string, CompiledSegment> segments, AttributeSlots slots)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var variants = definition.ValueType == ValueTypes.Boolean || definition.Variants is not { Count: > 0 }
            ? ValueTypes.BooleanVariants
            : definition.Variants;
        var keys = variants.Select(v => v.Key).ToArray();
        var isBoolean = definition.ValueType == ValueTypes.Boolean;

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
            var rule = enabledRules[i];
            var serve = isBoolean ? CompiledServe.Rollout(rule.RolloutPercentage) : CompiledServe.Parse(rule.ServeJson, keys, 0);
            rules[i] = CompiledRule.Compile(rule, serve, segments, slots);
        }

        return new CompiledFlag(definition, variants, rules);
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

    // Whether an outcome counts as "on": a boolean flag's `on` variant; for other types, anything
    // served while the flag is enabled.
    public bool IsEnabled(int variant, EvaluationReason reason) => IsOn(IsBoolean, variant == OnVariant, reason);

    // The same rule for readers that hold a flag's type and a counted outcome, not a compiled flag
    // (the stats): one definition, so that what is counted as on is what the SDK answered.
    public static bool IsOn(bool isBoolean, bool onVariant, EvaluationReason reason) =>
        isBoolean ? onVariant : reason is not (EvaluationReason.Disabled or EvaluationReason.PrerequisiteFailed);

    // What the flag serves when a prerequisite is not met.
    public EvaluationResult PrerequisiteFailed() => Result(_offVariant, EvaluationReason.PrerequisiteFailed, null, false);

    // identifier comes from Identifiers.For(context), computed once per request for all flags.
    // Prerequisites are not looked at here: EnvironmentSnapshot.Evaluate checks them first.
    public EvaluationResult Evaluate(in EvaluationContext context, string? identifier)
    {
        var outcome = EvaluateOutcome(in context, identifier, out var rule, out var identifierMissing);
        return Result(Outcome.Variant(outcome), Outcome.Reason(outcome), rule?.Id, identifierMissing);
    }

    // Evaluate reduced to the outcome (Outcome: reason and variant), for answers that need no more:
    // nothing else is built or copied per flag.
    // bucket: Bucket(identifier) when the caller computed it (-1: computed here if needed).
    public ushort EvaluateOutcome(in EvaluationContext context, string? identifier, int bucket = -1) =>
        EvaluateOutcome(in context, identifier, out _, out _, bucket);

    // The identifier's bucket (0-99) for this flag's splits.
    public int Bucket(string identifier) => Bucketing.Bucket(_bucketKey, identifier);

    internal BucketKey BucketKey => _bucketKey;

    private ushort EvaluateOutcome(in EvaluationContext context, string? identifier, out CompiledRule? matched, out bool identifierMissing,
        int bucket = -1)
    {
        matched = null;
        identifierMissing = false;
        if (!_enabled)
        {
            return Outcome.Of(EvaluationReason.Disabled, _offVariant);
        }

        foreach (var rule in _rules)
        {
            if (rule.Matches(in context, identifier))
            {
                matched = rule;
                return Outcome.Of(EvaluationReason.RuleMatch, rule.Serve.Pick(_bucketKey, identifier, _offVariant, out identifierMissing, bucket));
            }
        }

        var variant = _fallthrough.Pick(_bucketKey, identifier, _offVariant, out identifierMissing, bucket);
        var reason = IsBoolean ? (variant == OnVariant ? EvaluationReason.Rollout : EvaluationReason.RolloutExcluded)
            : identifierMissing ? EvaluationReason.RolloutExcluded
            : _fallthrough.IsDistribution ? EvaluationReason.Rollout
            : EvaluationReason.Default;
        return Outcome.Of(reason, variant);
    }

    private EvaluationResult Result(int variant, EvaluationReason reason, Guid? ruleId, bool identifierMissing) =>
        new(variant, reason, IsEnabled(variant, reason), ruleId, identifierMissing);
}
