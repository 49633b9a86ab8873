using FlagService.Features.Evaluation;
using FlagService.Features.Rules;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Segments;

public static class SegmentInput
{
    public const int MaxIdentifiers = 10_000;
    public const int MaxIdentifierLength = 1024;

    // Identifiers are the v1 evaluation identifier (the user_id, else the lower-cased email),
    // matched exactly; surrounding spaces are dropped and repeats kept once.
    public static string[]? Identifiers(FieldErrors errors, string field, string?[]? values)
    {
        if (values is null)
        {
            return null;
        }
        var before = errors.Count;
        var result = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < values.Length; i++)
        {
            var value = values[i]?.Trim();
            if (string.IsNullOrEmpty(value))
            {
                errors.Add($"{field}[{i}]", "must be a non-empty string");
            }
            else if (value.Length > MaxIdentifierLength)
            {
                errors.Add($"{field}[{i}]", $"must be at most {MaxIdentifierLength} characters");
            }
            else
            {
                result.Add(value);
            }
            if (errors.Count - before >= 20)
            {
                break; // enough to show what is wrong
            }
        }
        if (result.Count > MaxIdentifiers)
        {
            errors.Add(field, $"must hold at most {MaxIdentifiers} identifiers");
        }
        return errors.Count == before ? [.. result] : null;
    }

    // The attribute-rule condition list, but an empty one is allowed: the segment is then its lists.
    public static string? Conditions(FieldErrors errors, Conditions? conditions)
    {
        if (conditions is null || !conditions.IsPresent)
        {
            return null;
        }
        if (conditions.Json.ValueKind == System.Text.Json.JsonValueKind.Array && conditions.Json.GetArrayLength() == 0)
        {
            return "[]";
        }
        var before = errors.Count;
        errors.Merge(RuleValidation.ValidateConditions(conditions.Json));
        return errors.Count == before ? RuleValidation.NormalizeConditions(conditions.Json) : null;
    }
}
