using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FlagService.Features.Evaluation;

internal sealed class CompiledCondition
{
    private const int StackChars = 256;

    private readonly string _attribute;
    private readonly byte[] _attributeUtf8;
    private readonly AttributeSlots? _slots;
    private readonly int _slot;
    private readonly AttributeSource _source;
    private readonly bool _negate;
    private readonly ValueMatcher? _matcher;

    private CompiledCondition(string attribute, bool negate, ValueMatcher? matcher, AttributeSlots? slots)
    {
        _attribute = attribute;
        _attributeUtf8 = System.Text.Encoding.UTF8.GetBytes(attribute);
        _negate = negate;
        _matcher = matcher;
        _slots = slots;
        _slot = attribute.Length == 0 || slots is null ? -1 : slots.Of(attribute, matcher?.Uses ?? AttributeUses.None);
        // The built-ins always come from the request's top-level fields, even when custom_attributes has the same key.
        _source = attribute switch
        {
            "user_id" => AttributeSource.UserId,
            "user_email" => AttributeSource.UserEmail,
            _ => AttributeSource.Custom,
        };
    }

    private enum AttributeSource
    {
        Custom,
        UserId,
        UserEmail,
    }

    public static CompiledCondition Never { get; } = new(string.Empty, false, NeverMatcher.Instance, null);

    // Compile is total: data that would not pass write-time validation yields a condition that never matches.
    // slots: the compiling snapshot's table, which gives the attribute its slot.
    public static CompiledCondition Compile(JsonElement condition, AttributeSlots slots)
    {
        if (condition.ValueKind != JsonValueKind.Object
            || !condition.TryGetProperty("attribute", out var attribute) || attribute.ValueKind != JsonValueKind.String
            || !condition.TryGetProperty("operator", out var opName) || opName.ValueKind != JsonValueKind.String
            || !ConditionOperators.TryParse(opName.GetString(), out var op))
        {
            return Never;
        }

        var negate = condition.TryGetProperty("negate", out var n) && n.ValueKind == JsonValueKind.True;
        var ignoreCase = condition.TryGetProperty("ignore_case", out var ic) && ic.ValueKind == JsonValueKind.True;
        var values = condition.TryGetProperty("values", out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().ToArray()
            : [];
        var matcher = op == ConditionOperator.Exists ? null : CompileMatcher(op, values, ignoreCase);
        return new CompiledCondition(attribute.GetString()!.Trim(), negate, matcher, slots);
    }

    // Presence first: an absent attribute (missing, JSON null, empty built-in) fails every operator, negated
    // or not, except exists. Then a value of the wrong type fails as well, so negate only ever inverts a real
    // comparison: "not in [FR, DE]" never targets users whose country is unknown.
    public bool Matches(in EvaluationContext context)
    {
        // Custom attributes decoded once per context by this condition's table (AttributeSlots): read by slot.
        if (_source == AttributeSource.Custom && _slot >= 0 && context.Decoded.Slots == _slots)
        {
            return Matches(in context.Decoded.Values![_slot]);
        }

        string? text = null;
        var element = default(JsonElement);
        var present = _source switch
        {
            AttributeSource.UserId => !string.IsNullOrEmpty(text = context.UserId),
            AttributeSource.UserEmail => !string.IsNullOrEmpty(text = context.UserEmail),
            // Otherwise the attributes are a JSON object (looked up by the name's UTF-8 bytes,
            // encoded once here) or a dictionary.
            _ => context.CustomAttributes is JsonAttributes json
                ? json.TryGetValue(_attributeUtf8, out element) && IsPresent(element)
                : context.CustomAttributes is { } attributes && attributes.TryGetValue(_attribute, out element) && IsPresent(element),
        };

        if (_matcher is null)
        {
            return present != _negate;
        }

        if (!present)
        {
            return false;
        }

        var outcome = text is not null ? _matcher.Test(text) : TestElement(element);
        return outcome != MatchOutcome.Incomparable && (outcome == MatchOutcome.Match) != _negate;
    }

    // The same rules as above, on a decoded attribute.
    private bool Matches(in AttributeValue value)
    {
        var present = value.Kind != AttributeKind.Absent;
        if (_matcher is null)
        {
            return present != _negate;
        }
        if (!present)
        {
            return false;
        }
        var outcome = value.Kind == AttributeKind.Array ? TestElement(value.Element) : _matcher.Test(in value);
        return outcome != MatchOutcome.Incomparable && (outcome == MatchOutcome.Match) != _negate;
    }

    // JSON null, and an array with no non-null element, count as missing.
    private static bool IsPresent(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return false;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Null)
                    {
                        return true;
                    }
                }

                return false;
            default:
                return true;
        }
    }

    // An array matches when any element matches; negation then applies to that "any" as a whole.
    private MatchOutcome TestElement(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            return TestScalar(element);
        }

        var outcome = MatchOutcome.Incomparable;
        foreach (var item in element.EnumerateArray())
        {
            var itemOutcome = TestScalar(item);
            if (itemOutcome == MatchOutcome.Match)
            {
                return itemOutcome;
            }

            if (itemOutcome == MatchOutcome.NoMatch)
            {
                outcome = itemOutcome;
            }
        }

        return outcome;
    }

    private MatchOutcome TestScalar(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => TestString(element),
        JsonValueKind.Number => element.TryGetDouble(out var n) && double.IsFinite(n)
            ? _matcher!.Test(n)
            : MatchOutcome.Incomparable,
        JsonValueKind.True => _matcher!.Test(true),
        JsonValueKind.False => _matcher!.Test(false),
        _ => MatchOutcome.Incomparable,
    };

    // GetString() would allocate per condition per flag; decode the raw UTF-8 into a stack buffer instead.
    private MatchOutcome TestString(JsonElement element)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);
        raw = raw[1..^1];
        // Escaped strings are rare (non-ASCII is normally sent raw); let the JSON decoder handle them.
        if (raw.Contains((byte)'\\'))
        {
            return _matcher!.Test(element.GetString());
        }

        char[]? rented = null;
        // UTF-8 never decodes to more chars than bytes; the exact size, because stackalloc zeroes what it takes.
        var chars = raw.Length <= StackChars ? stackalloc char[raw.Length] : (rented = ArrayPool<char>.Shared.Rent(raw.Length));
        try
        {
            var length = Encoding.UTF8.GetChars(raw, chars);
            return _matcher!.Test(chars[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private static ValueMatcher CompileMatcher(ConditionOperator op, JsonElement[] values, bool ignoreCase)
    {
        if (values.Length == 0)
        {
            return NeverMatcher.Instance;
        }

        // Ordering operators take one bound (validation enforces it); the first value is used if older data has more.
        var first = values[0];
        switch (op)
        {
            case ConditionOperator.EqualTo or ConditionOperator.In:
                return CompileEquality(values, ignoreCase);
            case ConditionOperator.Contains or ConditionOperator.StartsWith or ConditionOperator.EndsWith:
                var texts = Strings(values);
                var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                return texts.Length == 0 ? NeverMatcher.Instance : new TextMatcher(op, texts, comparison);
            case ConditionOperator.Matches:
                var regexes = new List<Regex>();
                foreach (var pattern in Strings(values))
                {
                    if (ConditionValues.TryCreateRegex(pattern, ignoreCase, out var regex, out _))
                    {
                        regexes.Add(regex!);
                    }
                }

                return regexes.Count == 0 ? NeverMatcher.Instance : new RegexMatcher([.. regexes]);
            case ConditionOperator.SemverEqual:
                var versions = new List<SemanticVersion>();
                foreach (var text in Strings(values))
                {
                    if (SemanticVersion.TryParse(text, out var version))
                    {
                        versions.Add(version);
                    }
                }

                return versions.Count == 0 ? NeverMatcher.Instance : new SemverMatcher(op, [.. versions]);
            case ConditionOperator.SemverGreaterThan or ConditionOperator.SemverGreaterThanOrEqual
                or ConditionOperator.SemverLessThan or ConditionOperator.SemverLessThanOrEqual:
                return first.ValueKind == JsonValueKind.String && SemanticVersion.TryParse(first.GetString(), out var bound)
                    ? new SemverMatcher(op, [bound])
                    : NeverMatcher.Instance;
            case ConditionOperator.Before or ConditionOperator.After:
                return first.ValueKind == JsonValueKind.String && ConditionValues.TryParseInstant(first.GetString(), out var instant)
                    ? new InstantMatcher(op, instant)
                    : NeverMatcher.Instance;
            default:
                return ConditionValues.TryParseNumber(first, out var number)
                    ? new NumberMatcher(op, number)
                    : NeverMatcher.Instance;
        }
    }

    private static EqualityMatcher CompileEquality(JsonElement[] values, bool ignoreCase)
    {
        var strings = new HashSet<string>(ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        var numbers = new HashSet<double>();
        var jsonNumbers = new HashSet<double>();
        foreach (var value in values)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    var text = value.GetString()!;
                    strings.Add(text);
                    if (ConditionValues.TryParseNumber(text, out var parsed))
                    {
                        numbers.Add(parsed);
                    }

                    break;
                case JsonValueKind.Number when value.TryGetDouble(out var number) && double.IsFinite(number):
                    numbers.Add(number);
                    jsonNumbers.Add(number);
                    break;
                case JsonValueKind.True or JsonValueKind.False:
                    strings.Add(value.ValueKind == JsonValueKind.True ? "true" : "false");
                    break;
            }
        }

        return new EqualityMatcher(strings, numbers, jsonNumbers);
    }

    private static string[] Strings(JsonElement[] values)
    {
        var result = new List<string>(values.Length);
        foreach (var value in values)
        {
            if (value.ValueKind == JsonValueKind.String)
            {
                result.Add(value.GetString()!);
            }
        }

        return [.. result];
    }
}
