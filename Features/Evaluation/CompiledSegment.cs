using System.Collections.Frozen;
using System.Text.Json;

namespace FlagService.Features.Evaluation;

// Membership of one segment, built once per configuration change: excluded beats included, included
// beats conditions, and the conditions (all of them) decide the rest; no conditions, no one else.
// The lists are hash sets, so a 10 000-identifier segment costs one lookup per request.
public sealed class CompiledSegment
{
    private readonly FrozenSet<string> _included;
    private readonly FrozenSet<string> _excluded;
    private readonly CompiledCondition[] _conditions;

    private CompiledSegment(string key, FrozenSet<string> included, FrozenSet<string> excluded, CompiledCondition[] conditions)
    {
        Key = key;
        _included = included;
        _excluded = excluded;
        _conditions = conditions;
    }

    public string Key { get; }

    // slots: the compiling snapshot's attribute slot table.
    public static CompiledSegment Compile(SegmentDefinition definition, AttributeSlots slots)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new CompiledSegment(definition.Key,
            definition.Included.ToFrozenSet(StringComparer.Ordinal),
            definition.Excluded.ToFrozenSet(StringComparer.Ordinal),
            Conditions(definition.ConditionsJson, slots));
    }

    // Total: conditions that do not parse (validation keeps them out) match no one.
    private static CompiledCondition[] Conditions(string? json, AttributeSlots slots)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Array
                ? [.. document.RootElement.EnumerateArray().Select(c => CompiledCondition.Compile(c, slots))]
                : [CompiledCondition.Never];
        }
        catch (JsonException)
        {
            return [CompiledCondition.Never];
        }
    }

    public bool Contains(in EvaluationContext context, string? identifier)
    {
        if (identifier is not null)
        {
            if (_excluded.Contains(identifier))
            {
                return false;
            }
            if (_included.Contains(identifier))
            {
                return true;
            }
        }
        if (_conditions.Length == 0)
        {
            return false;
        }
        foreach (var condition in _conditions)
        {
            if (!condition.Matches(in context))
            {
                return false;
            }
        }
        return true;
    }
}
