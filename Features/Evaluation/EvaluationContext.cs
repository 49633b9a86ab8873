using System.Text.Json;

namespace FlagService.Features.Evaluation;

// A struct passed by `in`: building one per request costs nothing beyond the attribute dictionary itself.
// Decoded, when set, holds the custom attributes by slot of the snapshot's AttributeSlots (read once
// per request); conditions compiled in that snapshot then read their slot instead of looking their
// name up.
public readonly record struct EvaluationContext(
    string? UserId,
    string? UserEmail,
    IReadOnlyDictionary<string, JsonElement>? CustomAttributes,
    DecodedAttributes Decoded = default);

public static class Identifiers
{
    // Computed once per request and shared by every flag: the only allocation is lower-casing an email.
    public static string? For(in EvaluationContext context)
    {
        if (!string.IsNullOrEmpty(context.UserId))
        {
            return context.UserId;
        }

        var email = context.UserEmail?.Trim();
        return string.IsNullOrEmpty(email) ? null : email.ToLowerInvariant();
    }
}
