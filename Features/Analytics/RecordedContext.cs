using System.Runtime.InteropServices;
using System.Text.Json;
using FlagService.Features.Evaluation;

namespace FlagService.Features.Analytics;

// The evaluation context of an identifier's latest evaluation, copied out of the request (whose
// JSON does not outlive it), so that the read API can evaluate it again with the configuration
// version it met. Stored as {"user_id", "user_email", "custom_attributes"}: the /sdk/v1/evaluate body.
public sealed class RecordedContext
{
    private RecordedContext(string? userId, string? userEmail, byte[]? attributes)
    {
        UserId = userId;
        UserEmail = userEmail;
        Attributes = attributes;
    }

    public string? UserId { get; }
    public string? UserEmail { get; }

    // The custom_attributes object's UTF-8 JSON, as the caller sent it.
    public byte[]? Attributes { get; }

    public int Size => (UserId?.Length ?? 0) + (UserEmail?.Length ?? 0) + (Attributes?.Length ?? 0) + 64;

    public static RecordedContext Of(in EvaluationContext context) =>
        new(context.UserId, context.UserEmail, AttributesJson(context.CustomAttributes));

    // Compared on every repeat evaluation of an identifier: for the SDK body (a JsonAttributes) a
    // comparison of bytes in place, with nothing allocated.
    public bool Matches(in EvaluationContext context)
    {
        if (!string.Equals(UserId, context.UserId, StringComparison.Ordinal)
            || !string.Equals(UserEmail, context.UserEmail, StringComparison.Ordinal))
        {
            return false;
        }
        return context.CustomAttributes switch
        {
            null => Attributes is null,
            JsonAttributes json => Attributes is not null && JsonMarshal.GetRawUtf8Value(json.Element).SequenceEqual(Attributes),
            var other => Attributes is not null && AttributesJson(other).AsSpan().SequenceEqual(Attributes),
        };
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("user_id", UserId);
            json.WriteString("user_email", UserEmail);
            json.WritePropertyName("custom_attributes");
            if (Attributes is null)
            {
                json.WriteNullValue();
            }
            else
            {
                json.WriteRawValue(Attributes, skipInputValidation: true);
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    // Reads what ToJson wrote back into a context to evaluate. The returned document owns the
    // attributes the context points into.
    public static (EvaluationContext Context, JsonDocument Document) Parse(string json)
    {
        var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var attributes = root.TryGetProperty("custom_attributes", out var a) && a.ValueKind == JsonValueKind.Object
            ? new JsonAttributes(a) : null;
        return (new EvaluationContext(Text(root, "user_id"), Text(root, "user_email"), attributes), document);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[]? AttributesJson(IReadOnlyDictionary<string, JsonElement>? attributes)
    {
        switch (attributes)
        {
            case null:
                return null;
            case JsonAttributes json:
                return JsonMarshal.GetRawUtf8Value(json.Element).ToArray();
            default:
                using (var buffer = new MemoryStream())
                {
                    using (var json = new Utf8JsonWriter(buffer))
                    {
                        json.WriteStartObject();
                        foreach (var (name, value) in attributes)
                        {
                            json.WritePropertyName(name);
                            value.WriteTo(json);
                        }
                        json.WriteEndObject();
                    }
                    return buffer.ToArray();
                }
        }
    }
}
