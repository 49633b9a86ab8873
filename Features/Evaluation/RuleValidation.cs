using System.Text;
using System.Text.Json;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Evaluation;

// Write-time validation of targeting rules. Keys are the JSON paths of the request body
// ("rule_value", "conditions[2].operator", "conditions[0].values[3]") so the problem details
// name exactly what to fix; an empty dictionary means valid.
public static partial class RuleValidation
{
    public const int MaxRuleValueLength = 1024;
    public const int MaxConditions = 20;
    public const int MaxValues = 1000;
    public const int MaxAttributeLength = 255;
    public const int MaxStringValueLength = 1024;

    private static readonly string[] ConditionFields = ["attribute", "operator", "values", "negate", "ignore_case"];

    public static Dictionary<string, string[]> ValidateRule(string? ruleType, string? ruleValue, JsonElement? conditions)
    {
        if (ruleType is null || !RuleTypes.All.Contains(ruleType))
        {
            return Errors("rule_type", ruleType is null ? "is required" : $"must be one of: {string.Join(", ", RuleTypes.All)}");
        }

        if (ruleType != RuleTypes.AttributeMatch)
        {
            var errors = ValidateRuleValue(ruleType, ruleValue);
            if (IsPresent(conditions))
            {
                Add(errors, "conditions", "must be null unless rule_type is attribute_match");
            }

            return errors;
        }

        var conditionErrors = ValidateConditions(conditions);
        foreach (var (key, messages) in ValidateRuleValue(ruleType, ruleValue))
        {
            conditionErrors[key] = messages;
        }

        return conditionErrors;
    }

    public static Dictionary<string, string[]> ValidateRuleValue(string ruleType, string? ruleValue)
    {
        if (!RuleTypes.All.Contains(ruleType))
        {
            return Errors("rule_type", $"must be one of: {string.Join(", ", RuleTypes.All)}");
        }

        var problem = RuleValueProblem(ruleType, ruleValue?.Trim());
        return problem is null ? [] : Errors("rule_value", problem);
    }

    public static Dictionary<string, string[]> ValidateConditions(JsonElement? conditions)
    {
        var errors = new Dictionary<string, string[]>();
        if (!IsPresent(conditions))
        {
            Add(errors, "conditions", "is required for an attribute_match rule");
            return errors;
        }

        var list = conditions!.Value;
        if (list.ValueKind != JsonValueKind.Array)
        {
            Add(errors, "conditions", "must be an array of conditions");
            return errors;
        }

        var count = list.GetArrayLength();
        if (count == 0 || count > MaxConditions)
        {
            Add(errors, "conditions", count == 0
                ? "must contain at least one condition"
                : $"must contain at most {MaxConditions} conditions");
            return errors;
        }

        var i = 0;
        foreach (var condition in list.EnumerateArray())
        {
            ValidateCondition(condition, $"conditions[{i++}]", errors);
        }

        return errors;
    }

    public static string NormalizeRuleValue(string ruleValue)
    {
        ArgumentNullException.ThrowIfNull(ruleValue);
        return ruleValue.Trim();
    }

    // The canonical jsonb stored for a validated list: every field written, in a fixed order, attribute trimmed,
    // exists with an empty values array; values keep their JSON type and text.
    public static string NormalizeConditions(JsonElement conditions)
    {
        if (ValidateConditions(conditions).Count > 0)
        {
            throw new ArgumentException("The conditions are not valid; call ValidateConditions first.", nameof(conditions));
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var condition in conditions.EnumerateArray())
            {
                var op = condition.GetProperty("operator").GetString()!;
                writer.WriteStartObject();
                writer.WriteString("attribute", condition.GetProperty("attribute").GetString()!.Trim());
                writer.WriteString("operator", op);
                writer.WriteStartArray("values");
                if (op != "exists")
                {
                    foreach (var value in condition.GetProperty("values").EnumerateArray())
                    {
                        value.WriteTo(writer);
                    }
                }

                writer.WriteEndArray();
                writer.WriteBoolean("negate", Flag(condition, "negate"));
                writer.WriteBoolean("ignore_case", Flag(condition, "ignore_case"));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private static string? RuleValueProblem(string ruleType, string? value) => value switch
    {
        _ when ruleType == RuleTypes.AttributeMatch =>
            value is null ? null : "must be null for an attribute_match rule; the targeting goes in conditions",
        null => "is required",
        "" => "must not be empty",
        _ when TextLength.Of(value) > MaxRuleValueLength => $"must be at most {MaxRuleValueLength} characters",
        _ when ruleType == RuleTypes.UserEmail && !value.Contains('@', StringComparison.Ordinal) =>
            "must contain '@' for a user_email rule",
        _ when ruleType == RuleTypes.EmailDomain && (value.Length < 2 || value[0] != '@') =>
            "must start with '@' followed by the domain for an email_domain rule, e.g. @example.com",
        _ when ruleType == RuleTypes.Segment && !SegmentKey().IsMatch(value) =>
            "must be the key of one of the project's segments for a segment rule",
        _ => null,
    };

    private static void ValidateCondition(JsonElement condition, string path, Dictionary<string, string[]> errors)
    {
        if (condition.ValueKind != JsonValueKind.Object)
        {
            Add(errors, path, "must be an object with attribute, operator and values");
            return;
        }

        foreach (var property in condition.EnumerateObject())
        {
            // A typo such as "negated" would otherwise be ignored silently and invert the targeting.
            if (!ConditionFields.Contains(property.Name))
            {
                Add(errors, $"{path}.{property.Name}", $"is not a known field; use {string.Join(", ", ConditionFields)}");
            }
        }

        ValidateAttribute(condition, path, errors);
        foreach (var name in (ReadOnlySpan<string>)["negate", "ignore_case"])
        {
            if (condition.TryGetProperty(name, out var flag) && flag.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            {
                Add(errors, $"{path}.{name}", "must be true or false");
            }
        }

        if (!condition.TryGetProperty("operator", out var opElement) || opElement.ValueKind == JsonValueKind.Null)
        {
            Add(errors, $"{path}.operator", "is required");
            return;
        }

        if (opElement.ValueKind != JsonValueKind.String || !ConditionOperators.TryParse(opElement.GetString(), out var op))
        {
            Add(errors, $"{path}.operator", $"must be one of: {string.Join(", ", ConditionOperators.Names)}");
            return;
        }

        ValidateValues(condition, op, Flag(condition, "ignore_case"), path, errors);
    }

    private static void ValidateAttribute(JsonElement condition, string path, Dictionary<string, string[]> errors)
    {
        var key = $"{path}.attribute";
        if (!condition.TryGetProperty("attribute", out var attribute) || attribute.ValueKind == JsonValueKind.Null)
        {
            Add(errors, key, "is required");
        }
        else if (attribute.ValueKind != JsonValueKind.String)
        {
            Add(errors, key, "must be a string");
        }
        else if (attribute.GetString()!.Trim() is var name && name.Length == 0)
        {
            Add(errors, key, "must not be empty");
        }
        else if (TextLength.Of(name) > MaxAttributeLength)
        {
            Add(errors, key, $"must be at most {MaxAttributeLength} characters");
        }
    }

    // exists takes no values; ordering operators exactly one (two bounds would be ambiguous); the rest 1-1000.
    private static void ValidateValues(
        JsonElement condition, ConditionOperator op, bool ignoreCase, string path, Dictionary<string, string[]> errors)
    {
        var key = $"{path}.values";
        var opName = op.ToWire();
        var hasValues = condition.TryGetProperty("values", out var values) && values.ValueKind != JsonValueKind.Null;
        if (hasValues && values.ValueKind != JsonValueKind.Array)
        {
            Add(errors, key, "must be an array of values");
            return;
        }

        var count = hasValues ? values.GetArrayLength() : 0;
        if (op == ConditionOperator.Exists)
        {
            if (count > 0)
            {
                Add(errors, key, "must be empty for the exists operator");
            }

            return;
        }

        if (count == 0 || count > MaxValues)
        {
            Add(errors, key, count == 0 ? "must contain at least one value" : $"must contain at most {MaxValues} values");
            return;
        }

        if (count > 1 && op.TakesSingleValue())
        {
            Add(errors, key, $"must contain exactly one value for the {opName} operator");
            return;
        }

        var j = 0;
        foreach (var value in values.EnumerateArray())
        {
            var problem = ValueProblem(value, op, opName, ignoreCase);
            if (problem is not null)
            {
                Add(errors, $"{key}[{j}]", problem);
            }

            j++;
        }
    }

    private static string? ValueProblem(JsonElement value, ConditionOperator op, string opName, bool ignoreCase)
    {
        // Same cap as rule_value: values are compared per request, so unbounded strings would cost every caller.
        if (value.ValueKind == JsonValueKind.String && TextLength.Of(value.GetString()!) > MaxStringValueLength)
        {
            return $"must be at most {MaxStringValueLength} characters";
        }

        var isString = value.ValueKind == JsonValueKind.String;
        switch (op)
        {
            // Booleans are accepted here only: a context boolean compares as "true"/"false", so [true] reads naturally.
            case ConditionOperator.EqualTo or ConditionOperator.In:
                return value.ValueKind switch
                {
                    JsonValueKind.String or JsonValueKind.True or JsonValueKind.False => null,
                    JsonValueKind.Number => ConditionValues.TryParseNumber(value, out _) ? null : "must be a finite number",
                    _ => "must be a string, a number or a boolean",
                };
            case ConditionOperator.Contains or ConditionOperator.StartsWith or ConditionOperator.EndsWith:
                return isString ? null : "must be a string";
            // Compiled exactly as the engine will, so a pattern that passes here can never fail at evaluation.
            case ConditionOperator.Matches:
                return !isString ? "must be a string"
                    : ConditionValues.TryCreateRegex(value.GetString()!, ignoreCase, out _, out var error) ? null : error;
            case ConditionOperator.GreaterThan or ConditionOperator.GreaterThanOrEqual
                or ConditionOperator.LessThan or ConditionOperator.LessThanOrEqual:
                return ConditionValues.TryParseNumber(value, out _) ? null : $"must be a number or a numeric string for the {opName} operator";
            case ConditionOperator.Before or ConditionOperator.After:
                return isString && ConditionValues.TryParseInstant(value.GetString(), out _)
                    ? null
                    : $"must be an ISO 8601 instant such as 2026-03-01T00:00:00Z for the {opName} operator";
            default:
                return isString && SemanticVersion.TryParse(value.GetString(), out _)
                    ? null
                    : $"must be a semantic version such as 2.4.0 or 1.0.0-beta.1 for the {opName} operator";
        }
    }

    private static bool IsPresent(JsonElement? element) =>
        element is { } e && e.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);

    private static bool Flag(JsonElement condition, string name) =>
        condition.TryGetProperty(name, out var flag) && flag.ValueKind == JsonValueKind.True;

    private static Dictionary<string, string[]> Errors(string key, string message) => new() { [key] = [message] };

    private static void Add(Dictionary<string, string[]> errors, string key, string message) =>
        errors[key] = errors.TryGetValue(key, out var existing) ? [.. existing, message] : [message];

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z][a-z0-9_-]{0,63}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex SegmentKey();
}
