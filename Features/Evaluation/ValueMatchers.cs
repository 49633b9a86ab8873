using System.Text.RegularExpressions;

namespace FlagService.Features.Evaluation;

internal enum MatchOutcome
{
    // The context value has the wrong type for the operator: the condition fails even when negated.
    Incomparable,
    NoMatch,
    Match,
}

internal abstract class ValueMatcher
{
    // What a condition needs decoded in the attributes it reads (AttributeSlots).
    public virtual AttributeUses Uses => AttributeUses.None;

    public abstract MatchOutcome Test(ReadOnlySpan<char> value);

    // A decoded scalar attribute (arrays are tested item by item from their JSON).
    public virtual MatchOutcome Test(in AttributeValue value) => value.Kind switch
    {
        AttributeKind.String => Test(value.Text.Span),
        AttributeKind.Number => value.HasNumber ? Test(value.Number) : MatchOutcome.Incomparable,
        AttributeKind.True => Test(true),
        AttributeKind.False => Test(false),
        _ => MatchOutcome.Incomparable,
    };

    public virtual MatchOutcome Test(double value) => MatchOutcome.Incomparable;

    public virtual MatchOutcome Test(bool value) => MatchOutcome.Incomparable;

    protected static MatchOutcome Of(bool matched) => matched ? MatchOutcome.Match : MatchOutcome.NoMatch;
}

internal sealed class NeverMatcher : ValueMatcher
{
    public static readonly NeverMatcher Instance = new();

    public override MatchOutcome Test(ReadOnlySpan<char> value) => MatchOutcome.Incomparable;
}

// equals / in. Strings compare as strings; when either side is a JSON number both compare as numbers
// (the other side may be a numeric string); booleans compare as the strings "true" and "false".
internal sealed class EqualityMatcher(HashSet<string> strings, HashSet<double> numbers, HashSet<double> jsonNumbers)
    : ValueMatcher
{
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _strings =
        strings.GetAlternateLookup<ReadOnlySpan<char>>();

    public override AttributeUses Uses => jsonNumbers.Count > 0 ? AttributeUses.Number : AttributeUses.None;

    public override MatchOutcome Test(ReadOnlySpan<char> value) =>
        Of(_strings.Contains(value)
            || (jsonNumbers.Count > 0 && ConditionValues.TryParseNumber(value, out var n) && jsonNumbers.Contains(n)));

    public override MatchOutcome Test(in AttributeValue value) => value.Kind == AttributeKind.String
        ? Of(_strings.Contains(value.Text.Span) || (value.HasNumber && jsonNumbers.Contains(value.Number)))
        : base.Test(in value);

    public override MatchOutcome Test(double value) => Of(numbers.Contains(value));

    public override MatchOutcome Test(bool value) => Of(_strings.Contains(value ? "true" : "false"));
}

// contains / starts_with / ends_with on strings only: numbers and booleans are the wrong type here.
internal sealed class TextMatcher(ConditionOperator op, string[] values, StringComparison comparison) : ValueMatcher
{
    public override MatchOutcome Test(ReadOnlySpan<char> value)
    {
        foreach (var candidate in values)
        {
            var matched = op switch
            {
                ConditionOperator.Contains => value.Contains(candidate, comparison),
                ConditionOperator.StartsWith => value.StartsWith(candidate, comparison),
                _ => value.EndsWith(candidate, comparison),
            };
            if (matched)
            {
                return MatchOutcome.Match;
            }
        }

        return MatchOutcome.NoMatch;
    }
}

internal sealed class RegexMatcher(Regex[] patterns) : ValueMatcher
{
    public override MatchOutcome Test(ReadOnlySpan<char> value)
    {
        try
        {
            foreach (var pattern in patterns)
            {
                if (pattern.IsMatch(value))
                {
                    return MatchOutcome.Match;
                }
            }

            return MatchOutcome.NoMatch;
        }
        catch (RegexMatchTimeoutException)
        {
            // Only reachable on absurd inputs (the engine is linear); an undecided match must not pass a negation.
            return MatchOutcome.Incomparable;
        }
    }
}

// A numeric string in the context counts as a number (apps often send versions and ages as strings).
internal sealed class NumberMatcher(ConditionOperator op, double bound) : ValueMatcher
{
    public override AttributeUses Uses => AttributeUses.Number;

    public override MatchOutcome Test(in AttributeValue value) =>
        value.Kind is AttributeKind.String or AttributeKind.Number
            ? value.HasNumber ? Test(value.Number) : MatchOutcome.Incomparable
            : base.Test(in value);

    public override MatchOutcome Test(ReadOnlySpan<char> value) =>
        ConditionValues.TryParseNumber(value, out var n) ? Test(n) : MatchOutcome.Incomparable;

    public override MatchOutcome Test(double value) => Of(op switch
    {
        ConditionOperator.GreaterThan => value > bound,
        ConditionOperator.GreaterThanOrEqual => value >= bound,
        ConditionOperator.LessThan => value < bound,
        _ => value <= bound,
    });
}

// semver_eq may list several versions (any matches); the ordering operators hold exactly one.
internal sealed class SemverMatcher(ConditionOperator op, SemanticVersion[] versions) : ValueMatcher
{
    public override AttributeUses Uses => AttributeUses.Version;

    public override MatchOutcome Test(ReadOnlySpan<char> value) =>
        SemanticVersion.TryParseParts(value, out var major, out var minor, out var patch, out var prerelease)
            ? Compare(major, minor, patch, prerelease)
            : MatchOutcome.Incomparable;

    public override MatchOutcome Test(in AttributeValue value) => value.Kind == AttributeKind.String
        ? value.HasVersion ? Compare(value.Major, value.Minor, value.Patch, value.Prerelease) : MatchOutcome.Incomparable
        : base.Test(in value);

    private MatchOutcome Compare(ulong major, ulong minor, ulong patch, ReadOnlySpan<char> prerelease)
    {
        foreach (var v in versions)
        {
            var c = SemanticVersion.Compare(major, minor, patch, prerelease, v.Major, v.Minor, v.Patch, v.Prerelease);
            var matched = op switch
            {
                ConditionOperator.SemverEqual => c == 0,
                ConditionOperator.SemverGreaterThan => c > 0,
                ConditionOperator.SemverGreaterThanOrEqual => c >= 0,
                ConditionOperator.SemverLessThan => c < 0,
                _ => c <= 0,
            };
            if (matched)
            {
                return MatchOutcome.Match;
            }
        }

        return MatchOutcome.NoMatch;
    }
}

internal sealed class InstantMatcher(ConditionOperator op, DateTimeOffset bound) : ValueMatcher
{
    public override AttributeUses Uses => AttributeUses.Instant;

    // DateTimeOffset compares the UTC instants, so offsets are honoured.
    public override MatchOutcome Test(ReadOnlySpan<char> value) =>
        ConditionValues.TryParseInstant(value, out var instant) ? Compare(instant) : MatchOutcome.Incomparable;

    public override MatchOutcome Test(in AttributeValue value) => value.Kind == AttributeKind.String
        ? value.HasInstant ? Compare(value.Instant) : MatchOutcome.Incomparable
        : base.Test(in value);

    private MatchOutcome Compare(DateTimeOffset instant) => Of(op == ConditionOperator.Before ? instant < bound : instant > bound);
}
