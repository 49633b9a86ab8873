using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Features.Rules;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Flags;

// The state fields of a flag in one environment, as a PUT of the flag sends them (and a schedule's
// `change`, a change request's `state`). Omitted fields keep their value.
public sealed record FlagStateRequest(
    bool? Enabled = null, int? RolloutPercentage = null, string? OffVariant = null, ServeRequest? Serve = null,
    PrerequisiteRequest[]? Prerequisites = null)
{
    public bool IsEmpty => this is { Enabled: null, RolloutPercentage: null, OffVariant: null, Serve: null, Prerequisites: null };
}

// A whole rule, as POST .../rules sends it.
public sealed record RuleRequest(
    string? RuleType, string? RuleValue = null, Conditions? Conditions = null, bool? Enabled = null, int? Priority = null,
    int? RolloutPercentage = null, ServeRequest? Serve = null);

// What a flag's configuration may refer to in its project: the flags (for prerequisites), the
// segments (for segment rules) and the prerequisite graph of the environment (no cycles).
public sealed record FlagCatalog(
    IReadOnlyDictionary<string, CatalogFlag> Flags, IReadOnlySet<string> Segments, IReadOnlyList<(string Flag, string Required)> Edges);

public sealed record CatalogFlag(Guid Id, string Key, string ValueType, string[] Variants);

// The one validator of a flag's configuration: every route, schedule and copy changes a
// FlagConfig through these functions, which name each failing field (under the caller's prefix:
// `change.serve.variant`, `changes[2].rules[0].conditions[1].values[0]`) and return null then.
public static class FlagConfigInput
{
    public static FlagConfig? Apply(FlagConfig current, FlagSpec flag, FlagStateRequest patch, FlagCatalog catalog, FieldErrors errors)
    {
        var before = errors.Count;
        var normalized = Normalize(flag, patch, errors);
        var prerequisites = patch.Prerequisites is { } requested ? Prerequisites(flag, requested, catalog, errors) : current.Prerequisites;
        if (errors.Count != before)
        {
            return null;
        }
        return current with
        {
            Enabled = normalized!.Enabled ?? current.Enabled,
            RolloutPercentage = normalized.RolloutPercentage ?? current.RolloutPercentage,
            OffVariant = normalized.OffVariant ?? current.OffVariant,
            Serve = ServeResponse.From(normalized.Serve) ?? current.Serve,
            Prerequisites = prerequisites!,
        };
    }

    // The served fields checked against the flag's type and variants, in the form they are stored:
    // a boolean flag's serve becomes its rollout_percentage (its off variant is always `off`).
    public static FlagStateRequest? Normalize(FlagSpec flag, FlagStateRequest patch, FieldErrors errors)
    {
        var before = errors.Count;
        var state = Variants.State(errors, flag.ValueType, flag.VariantKeys, patch.RolloutPercentage, patch.OffVariant, patch.Serve);
        return errors.Count != before ? null : patch with
        {
            RolloutPercentage = state.Rollout,
            OffVariant = state.OffVariant,
            Serve = ServeRequest.From(ServeResponse.Parse(state.ServeJson)),
        };
    }

    // A new flag's definition. Boolean flags always have on (true) and off (false).
    public static FlagSpec? Spec(string? name, string? key, string? description, string? valueType, VariantRequest[]? variants,
        FieldErrors errors)
    {
        var before = errors.Count;
        var validName = errors.Text("name", name, 1, ProjectInput.NameMax, required: true);
        FlagInput.Key(errors, key);
        var validDescription = errors.Text("description", description, 0, ProjectInput.DescriptionMax, required: false);
        Variants.ValueType(errors, valueType);
        var type = valueType ?? ValueTypes.Boolean;
        var validVariants = errors.Count == before ? Variants.Validate(errors, type, variants, required: true) : null;
        return errors.Count != before ? null
            : new FlagSpec(key!, validName!, NullIfEmpty(validDescription), type, [.. validVariants!.Select(ToSpec)]);
    }

    // An existing flag's definition with the fields a PUT sends (null: kept). `key` and
    // `value_type` may be sent but must equal the current ones.
    public static FlagSpec? Spec(FlagSpec current, string? name, string? key, string? description, string? valueType,
        VariantRequest[]? variants, FieldErrors errors)
    {
        var before = errors.Count;
        var validName = errors.Text("name", name, 1, ProjectInput.NameMax, required: false);
        var validDescription = errors.Text("description", description, 0, ProjectInput.DescriptionMax, required: false);
        if (key is not null && key != current.Key)
        {
            errors.Add("key", "cannot be changed");
        }
        if (valueType is not null && valueType != current.ValueType)
        {
            errors.Add("value_type", $"cannot be changed (the flag is {current.ValueType}): create a new flag instead");
        }
        var validVariants = Variants.Validate(errors, current.ValueType, variants, required: false);
        return errors.Count != before ? null : current with
        {
            Name = validName ?? current.Name,
            Description = validDescription is null ? current.Description : NullIfEmpty(validDescription),
            Variants = validVariants is null ? current.Variants : [.. validVariants.Select(ToSpec)],
        };
    }

    private static VariantSpec ToSpec(Variants.Valid v) =>
        new(v.Key, System.Text.Json.JsonDocument.Parse(v.ValueJson).RootElement.Clone(), v.Name, v.Description);

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    // A complete rule, validated as a new one would be. The id is the caller's (new or kept).
    public static RuleConfig? Rule(RuleRequest request, Guid id, FlagSpec flag, FlagCatalog catalog, FieldErrors errors)
    {
        var before = errors.Count;
        errors.Merge(RuleValidation.ValidateRule(request.RuleType, request.RuleValue, request.Conditions?.Json));
        var (rollout, serveJson) = Variants.RuleServe(errors, flag.ValueType, flag.VariantKeys, request.RolloutPercentage, request.Serve, required: true);
        var value = request.RuleValue is null ? null : RuleValidation.NormalizeRuleValue(request.RuleValue);
        if (errors.Count == before && request.RuleType == RuleTypes.Segment && !catalog.Segments.Contains(value!))
        {
            errors.Add("rule_value", $"names no segment of this project ('{value}')");
        }
        if (errors.Count != before)
        {
            return null;
        }
        var attribute = request.RuleType == RuleTypes.AttributeMatch;
        return new RuleConfig(id, request.RuleType!, attribute ? null : value,
            attribute ? Conditions.FromStored(RuleValidation.NormalizeConditions(request.Conditions!.Json)).Json : null,
            rollout ?? 100, request.Enabled ?? true, request.Priority ?? 0, ServeResponse.Parse(serveJson));
    }

    // An existing rule as the request that would create it, so a partial update is validated as a whole rule.
    public static RuleRequest AsRequest(RuleConfig rule, bool boolean) => new(
        rule.RuleType, rule.RuleValue, rule.Conditions is { } c ? new Conditions(c) : null, rule.Enabled, rule.Priority,
        boolean ? rule.RolloutPercentage : null, boolean ? null : ServeRequest.From(rule.Serve));

    // Prerequisites: flags of the project other than this one, each once, with a variant it has
    // (boolean ones: `on` unless said otherwise); with them the environment's graph stays acyclic
    // and at most Prerequisites.MaxDepth deep.
    private static PrerequisiteResponse[]? Prerequisites(FlagSpec flag, PrerequisiteRequest[] requested, FlagCatalog catalog, FieldErrors errors)
    {
        var before = errors.Count;
        if (requested.Length > Flags.Prerequisites.MaxPerFlag)
        {
            errors.Add("prerequisites", $"must hold at most {Flags.Prerequisites.MaxPerFlag} prerequisites");
        }
        var resolved = new List<PrerequisiteResponse>();
        for (var i = 0; i < requested.Length && i < Flags.Prerequisites.MaxPerFlag; i++)
        {
            var entry = requested[i];
            var at = $"prerequisites[{i}]";
            if (entry?.Flag is null || !catalog.Flags.TryGetValue(entry.Flag, out var required))
            {
                errors.Add($"{at}.flag", entry?.Flag is null ? "is required" : $"names no flag of this project ('{entry.Flag}')");
                continue;
            }
            if (required.Key == flag.Key)
            {
                errors.Add($"{at}.flag", "cannot be the flag itself");
                continue;
            }
            if (resolved.Any(r => r.Flag == required.Key))
            {
                errors.Add($"{at}.flag", $"appears twice ('{required.Key}')");
                continue;
            }
            var variant = entry.Variant ?? (required.ValueType == ValueTypes.Boolean ? ValueTypes.On : null);
            if (variant is null || !required.Variants.Contains(variant, StringComparer.Ordinal))
            {
                errors.Add($"{at}.variant", variant is null
                    ? $"is required: flag '{required.Key}' is a {required.ValueType} flag (variants: {string.Join(", ", required.Variants)})"
                    : $"names no variant of flag '{required.Key}' ('{variant}'; variants: {string.Join(", ", required.Variants)})");
                continue;
            }
            resolved.Add(new PrerequisiteResponse(required.Key, variant));
        }
        if (errors.Count == before)
        {
            var edges = catalog.Edges.Where(e => e.Flag != flag.Key).Concat(resolved.Select(r => (flag.Key, r.Flag)));
            if (Flags.Prerequisites.GraphProblem(edges) is { } problem)
            {
                errors.Add("prerequisites", problem);
            }
        }
        return errors.Count == before ? [.. resolved] : null;
    }
}
