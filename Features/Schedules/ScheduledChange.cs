using System.Text.Json;
using FlagService.Features.Flags;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Schedules;

// A scheduled change is checked twice against the flag: when it is created, and again when it is
// applied, since the flag's variants may have changed in between. Both checks are a PUT's
// (Variants.State), with the fields named as they sit in the request: `change.serve.variant`.
public static class ScheduledChange
{
    public const string Fields = "enabled, rollout_percentage, serve, off_variant";

    private static readonly JsonSerializerOptions Json = HttpConventions.Configure(new JsonSerializerOptions());

    // Null when there are errors; otherwise what to write (null fields are left as they are).
    public static Variants.ValidState? Validate(FieldErrors errors, string valueType, IReadOnlyList<string> variantKeys, bool? enabled,
        int? rollout, string? offVariant, ServeRequest? serve)
    {
        var own = new FieldErrors();
        var state = Variants.State(own, valueType, variantKeys, rollout, offVariant, serve);
        foreach (var (field, rules) in own.ToDictionary())
        {
            foreach (var rule in rules)
            {
                errors.Add($"change.{field}", rule);
            }
        }
        if (own.Any)
        {
            return null;
        }
        // A boolean flag's off_variant is always `off`: sent alone it would schedule nothing.
        if (enabled is null && state is { Rollout: null, OffVariant: null, ServeJson: null })
        {
            errors.Add("change", $"must change at least one of: {Fields}");
            return null;
        }
        return state;
    }

    // A stored serve (normalized by Variants.Serve) read back as the request it came from.
    public static ServeRequest? ParseServe(string? json) => json is null ? null : JsonSerializer.Deserialize<ServeRequest>(json, Json);

    // One line for failure_reason: "change.serve.variant names no variant of this flag (...)".
    public static string Describe(FieldErrors errors) =>
        string.Join("; ", errors.ToDictionary().SelectMany(e => e.Value.Select(rule => $"{e.Key} {rule}")));
}
