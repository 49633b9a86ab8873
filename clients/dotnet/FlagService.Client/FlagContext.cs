using System.Text.Json;
using FlagService.Features.Evaluation;

namespace FlagService.Client;

// Who is asking: the same fields as /sdk/v1/evaluate's body (user_id, user_email, custom_attributes).
public sealed class FlagContext(string? userId = null, string? userEmail = null, IReadOnlyDictionary<string, JsonElement>? attributes = null)
{
    public static FlagContext Anonymous { get; } = new();

    public string? UserId { get; } = userId;
    public string? UserEmail { get; } = userEmail;
    public IReadOnlyDictionary<string, JsonElement>? Attributes { get; } = attributes;

    // Computed once per context, not once per evaluation (lower-casing an email allocates).
    internal string? Identifier { get; } = Identifiers.For(new EvaluationContext(userId, userEmail, attributes));

    // The attributes decoded by the slots of the snapshot in use (its AttributeSlots), once per
    // context and again only when a new ruleset brings a new snapshot: a context kept for a user
    // evaluates without lookups.
    private Decoded? _decoded;

    internal EvaluationContext Engine(AttributeSlots slots) => new(UserId, UserEmail, Attributes, Values(slots));

    private DecodedAttributes Values(AttributeSlots slots)
    {
        if (Attributes is null)
        {
            return default;
        }
        var decoded = Volatile.Read(ref _decoded);
        if (decoded is null || decoded.Attributes.Slots != slots)
        {
            decoded = new Decoded(slots.Decode(Attributes));
            Volatile.Write(ref _decoded, decoded);
        }
        return decoded.Attributes;
    }

    private sealed record Decoded(DecodedAttributes Attributes);

    // From a JSON object of custom attributes, as an HTTP caller would send them.
    public static FlagContext FromJson(string? userId, string? userEmail, JsonElement attributes) =>
        new(userId, userEmail, attributes.ValueKind == JsonValueKind.Object ? new JsonAttributes(attributes) : null);
}

// What a flag served: the variant's key and value, and why (the wire reasons of /sdk/v1/evaluate,
// plus "flag_not_found" and "not_ready" when the client has no such flag or no ruleset yet).
public readonly record struct FlagVariant(string? Variant, JsonElement Value, string Reason, bool Enabled);
