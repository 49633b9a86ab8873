using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Flags;

// A variant as written: `value` stays raw JSON so its type can be checked against the flag's
// (Undefined when the field is missing, Null when it is null).
public sealed record VariantRequest
{
    public string? Key { get; init; }
    public JsonElement Value { get; init; }
    public string? Name { get; init; }
    public string? Description { get; init; }
}

public sealed record VariantResponse(string Key, JsonElement Value, string? Name, string? Description);

// What a state or a rule serves: one variant, or a weighted distribution (see API.md, Variants).
public sealed record ServeRequest(string? Variant = null, DistributionEntry[]? Distribution = null)
{
    public static ServeRequest? From(ServeResponse? serve) => serve is null ? null
        : new(serve.Variant, serve.Distribution?.Select(d => new DistributionEntry(d.Variant, d.Weight)).ToArray());
}

public sealed record DistributionEntry(string? Variant, int? Weight);

public sealed record ServeResponse(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Variant,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DistributionResponse[]? Distribution)
{
    private static readonly JsonSerializerOptions Json = HttpConventions.Configure(new JsonSerializerOptions());

    // A boolean flag's rollout p, written as the distribution it means.
    public static ServeResponse Rollout(int percentage) =>
        new(null, [new DistributionResponse(ValueTypes.On, percentage), new DistributionResponse(ValueTypes.Off, 100 - percentage)]);

    public static ServeResponse? Parse(string? json) => json is null ? null : JsonSerializer.Deserialize<ServeResponse>(json, Json);

    public static ServeResponse? From(ServeRequest? serve) => serve is null ? null
        : new(serve.Variant, serve.Distribution?.Select(d => new DistributionResponse(d.Variant!, d.Weight!.Value)).ToArray());
}

public sealed record DistributionResponse(string Variant, int Weight);

public static class Variants
{
    public const int MaxVariants = 100;
    public const int MaxValueBytes = 8 * 1024;

    public sealed record Valid(string Key, string ValueJson, string? Name, string? Description);

    public static void ValueType(FieldErrors errors, string? valueType)
    {
        if (valueType is not null && !ValueTypes.All.Contains(valueType))
        {
            errors.Add("value_type", $"must be one of: {string.Join(", ", ValueTypes.All)}");
        }
    }

    // The variants of a new or updated flag. Boolean flags always have on (true) and off (false):
    // a list sent for one may only name and describe them. Null when there are errors.
    public static Valid[]? Validate(FieldErrors errors, string valueType, VariantRequest[]? variants, bool required)
    {
        if (variants is null)
        {
            if (required && valueType != ValueTypes.Boolean)
            {
                errors.Add("variants", $"is required for a {valueType} flag (1 to {MaxVariants} variants)");
                return null;
            }
            return valueType == ValueTypes.Boolean && required
                ? [.. ValueTypes.BooleanVariants.Select(v => new Valid(v.Key, v.ValueJson, null, null))]
                : null;
        }
        if (variants.Length == 0 || variants.Length > MaxVariants)
        {
            errors.Add("variants", $"must hold 1 to {MaxVariants} variants");
            return null;
        }

        var valid = new List<Valid>(variants.Length);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var before = errors.Count;
        for (var i = 0; i < variants.Length; i++)
        {
            var field = $"variants[{i}]";
            var variant = variants[i];
            if (variant is null)
            {
                errors.Add(field, "must be an object");
                continue;
            }
            var keyErrors = new FieldErrors();
            FlagInput.Key(keyErrors, variant.Key);
            foreach (var (_, rules) in keyErrors.ToDictionary())
            {
                foreach (var rule in rules)
                {
                    errors.Add($"{field}.key", rule);
                }
            }
            if (variant.Key is not null && !seen.Add(variant.Key))
            {
                errors.Add($"{field}.key", $"duplicates another variant's key ('{variant.Key}')");
            }
            var name = errors.Text($"{field}.name", variant.Name, 1, ProjectInput.NameMax, required: false);
            var description = errors.Text($"{field}.description", variant.Description, 0, ProjectInput.DescriptionMax, required: false);
            var value = Value(errors, $"{field}.value", valueType, variant.Value);
            if (value is not null && variant.Key is not null)
            {
                valid.Add(new Valid(variant.Key, value, name, string.IsNullOrEmpty(description) ? null : description));
            }
        }

        if (valueType == ValueTypes.Boolean && errors.Count == before)
        {
            var fixedVariants = ValueTypes.BooleanVariants.Select(v => (v.Key, v.ValueJson));
            if (!valid.Select(v => (v.Key, v.ValueJson)).OrderBy(v => v.Key, StringComparer.Ordinal)
                    .SequenceEqual(fixedVariants.OrderBy(v => v.Key, StringComparer.Ordinal)))
            {
                errors.Add("variants", "of a boolean flag are always on (true) and off (false): only their name and description can change");
            }
            // Index 0 is on and 1 is off, whatever order they were sent in.
            valid = [.. valid.OrderBy(v => v.Key == ValueTypes.On ? 0 : 1)];
        }
        return errors.Count == before ? [.. valid] : null;
    }

    private static string? Value(FieldErrors errors, string field, string valueType, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            errors.Add(field, "is required");
            return null;
        }
        var fits = valueType switch
        {
            ValueTypes.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            ValueTypes.String => value.ValueKind == JsonValueKind.String,
            ValueTypes.Number => value.ValueKind == JsonValueKind.Number,
            _ => true,
        };
        if (!fits)
        {
            errors.Add(field, $"must be a {(valueType == ValueTypes.Json ? "JSON value" : valueType)}, as the flag's value_type says");
            return null;
        }
        var json = JsonSerializer.Serialize(value); // compact, in the order written
        if (Encoding.UTF8.GetByteCount(json) > MaxValueBytes)
        {
            errors.Add(field, $"must be at most {MaxValueBytes} bytes of JSON");
            return null;
        }
        return json;
    }

    // Checks `serve` against the flag's variants. For a boolean flag the answer is the equivalent
    // rollout percentage (serve is then not stored: rollout_percentage is the same thing written
    // another way); for other types the normalized JSON to store.
    public static (string? Json, int? Rollout) Serve(FieldErrors errors, string field, ServeRequest serve, string valueType,
        IReadOnlyList<string> variantKeys)
    {
        var known = variantKeys.ToHashSet(StringComparer.Ordinal);
        if ((serve.Variant is null) == (serve.Distribution is null))
        {
            errors.Add(field, "must have exactly one of: variant, distribution");
            return (null, null);
        }
        if (serve.Variant is not null)
        {
            if (!known.Contains(serve.Variant))
            {
                errors.Add($"{field}.variant", $"names no variant of this flag ('{serve.Variant}'; variants: {string.Join(", ", variantKeys)})");
                return (null, null);
            }
            return valueType == ValueTypes.Boolean
                ? (null, serve.Variant == ValueTypes.On ? 100 : 0)
                : (JsonSerializer.Serialize(new { variant = serve.Variant }), null);
        }

        var entries = serve.Distribution!;
        var before = errors.Count;
        if (entries.Length == 0 || entries.Length > MaxVariants)
        {
            errors.Add($"{field}.distribution", $"must hold 1 to {MaxVariants} entries");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var total = 0L;
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = entries[i];
            var at = $"{field}.distribution[{i}]";
            if (entry?.Variant is null || !known.Contains(entry.Variant))
            {
                errors.Add($"{at}.variant", entry?.Variant is null ? "is required" : $"names no variant of this flag ('{entry.Variant}')");
            }
            else if (!seen.Add(entry.Variant))
            {
                errors.Add($"{at}.variant", $"appears twice in the distribution ('{entry.Variant}')");
            }
            if (entry?.Weight is not { } weight || weight < 0)
            {
                errors.Add($"{at}.weight", "must be an integer of at least 0");
            }
            else
            {
                total += weight;
            }
        }
        if (errors.Count == before && total != 100)
        {
            errors.Add($"{field}.distribution", $"weights must sum to 100 (they sum to {total})");
        }
        if (errors.Count != before)
        {
            return (null, null);
        }
        return valueType == ValueTypes.Boolean
            ? (null, entries.Where(e => e.Variant == ValueTypes.On).Sum(e => e.Weight!.Value))
            : (JsonSerializer.Serialize(new { distribution = entries.Select(e => new { variant = e.Variant, weight = e.Weight }) }), null);
    }

    public sealed record ValidState(int? Rollout, string? OffVariant, string? ServeJson);

    // The served part of a flag's state in one environment, checked against the flag's type and
    // variants: rollout_percentage for boolean flags (or serve, converted), off_variant and serve
    // for the others.
    public static ValidState State(FieldErrors errors, string valueType, IReadOnlyList<string> variantKeys, int? rollout,
        string? offVariant, ServeRequest? serve)
    {
        FlagInput.Rollout(errors, rollout);
        var boolean = valueType == ValueTypes.Boolean;
        if (!boolean && rollout is not null)
        {
            errors.Add("rollout_percentage", $"applies to boolean flags only: a {valueType} flag serves what `serve` says");
        }
        if (offVariant is not null)
        {
            if (boolean && offVariant != ValueTypes.Off)
            {
                errors.Add("off_variant", "of a boolean flag is always off");
            }
            else if (!variantKeys.Contains(offVariant, StringComparer.Ordinal))
            {
                errors.Add("off_variant", $"names no variant of this flag ('{offVariant}'; variants: {string.Join(", ", variantKeys)})");
            }
        }
        var (json, served) = serve is null ? (null, null) : Serve(errors, "serve", serve, valueType, variantKeys);
        if (served is not null && rollout is not null && served != rollout)
        {
            errors.Add("serve", $"serves on to {served} % but rollout_percentage says {rollout}: send one of them, or both alike");
        }
        return new ValidState(rollout ?? served, boolean ? null : offVariant, json);
    }

    // What a rule serves when it matches: for a boolean flag a rollout percentage (rollout_percentage,
    // or serve converted); for other types `serve`, which a new rule must have.
    public static (int? Rollout, string? ServeJson) RuleServe(FieldErrors errors, string valueType, IReadOnlyList<string> variantKeys,
        int? rollout, ServeRequest? serve, bool required)
    {
        FlagInput.Rollout(errors, rollout);
        if (valueType != ValueTypes.Boolean)
        {
            if (rollout is not null)
            {
                errors.Add("rollout_percentage", $"applies to rules of boolean flags only: a rule of a {valueType} flag serves what `serve` says");
            }
            if (serve is null && required)
            {
                errors.Add("serve", $"is required for a rule of a {valueType} flag: a variant or a distribution");
            }
        }
        var (json, served) = serve is null ? (null, null) : Serve(errors, "serve", serve, valueType, variantKeys);
        if (served is not null && rollout is not null && served != rollout)
        {
            errors.Add("serve", $"serves on to {served} % but rollout_percentage says {rollout}: send one of them, or both alike");
        }
        return (rollout ?? served, json);
    }
}
