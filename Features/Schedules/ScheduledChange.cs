using FlagService.Features.Flags;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Schedules;

// A scheduled change is checked twice against the flag: when it is created, and again when it is
// applied, since the flag's variants may have changed in between. Both checks are a PUT's
// (Variants.State), with the fields named as they sit in the request: `change.serve.variant`.
public static class ScheduledChange
{
    public const string Fields = "enabled, rollout_percentage, serve, off_variant";

    // A stored change read back as the request it came from.
    public static FlagStateRequest Stored(bool? enabled, int? rollout, string? offVariant, string? serveJson) =>
        new(enabled, rollout, offVariant, ServeRequest.From(ServeResponse.Parse(serveJson)));

    // The change in the form it is stored (FlagConfigInput.Normalize), fields named as they sit in
    // the request; null when there are errors.
    public static FlagStateRequest? Validate(FlagSpec flag, FlagStateRequest change, FieldErrors errors)
    {
        var normalized = FlagConfigInput.Normalize(flag, change, errors.At("change"));
        // A boolean flag's off_variant is always `off`: sent alone it would schedule nothing.
        if (normalized is { Enabled: null, RolloutPercentage: null, OffVariant: null, Serve: null })
        {
            errors.Add("change", $"must change at least one of: {Fields}");
            return null;
        }
        return normalized;
    }

    // One line for failure_reason: "change.serve.variant names no variant of this flag (...)".
    public static string Describe(FieldErrors errors) =>
        string.Join("; ", errors.ToDictionary().SelectMany(e => e.Value.Select(rule => $"{e.Key} {rule}")));
}
