using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace FlagService.Features.Sdk.Evaluate;

// Reads {"user_id", "user_email", "custom_attributes"} straight from the request's bytes. The hot
// path skips model binding (content-type parsing, async deserialisation state, the record's
// constructor arguments), which cost more than the evaluation itself. Errors name the field as the
// rest of the API does.
public static class EvaluateRequestReader
{
    public static async Task<(EvaluateFlags.EvaluateRequest? Request, RequestError? Error, bool Unsupported)> ReadAsync(
        HttpRequest request, CancellationToken ct)
    {
        var reader = request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await reader.ReadAsync(ct);
            if (read.IsCompleted)
            {
                break;
            }
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        try
        {
            if (read.Buffer.IsEmpty)
            {
                return (null, null, false);
            }
            if (!IsJson(request.ContentType))
            {
                return (null, null, true);
            }
            var error = Parse(read.Buffer, out var parsed);
            return (parsed, error, false);
        }
        finally
        {
            reader.AdvanceTo(read.Buffer.End);
        }
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null &&
        (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ||
         contentType.Contains("+json", StringComparison.OrdinalIgnoreCase));

    // Two shapes: the flat v1 body, or {"environment": "...", "context": {the flat fields}}. The
    // fields of one never mix with the other's, so a misplaced user_id cannot be silently ignored.
    internal static RequestError? Parse(ReadOnlySequence<byte> body, out EvaluateFlags.EvaluateRequest? request)
    {
        request = null;
        var fields = new ContextFields();
        string? environment = null;
        bool enveloped = false, flat = false;
        var envelope = 0; // which of environment (1) and context (2) were read: a second one is a 400
        var json = new Utf8JsonReader(body);
        try
        {
            if (!json.Read() || json.TokenType == JsonTokenType.Null)
            {
                return Finish(ref json, out request, fields, null, false);
            }
            if (json.TokenType != JsonTokenType.StartObject)
            {
                json.Skip();
                return Error("body", "must be a JSON object", "The request body must be a JSON object.");
            }
            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                if (json.ValueTextEquals("environment"u8))
                {
                    if (Seen(ref envelope, 1))
                    {
                        return Duplicate("environment");
                    }
                    enveloped = true;
                    json.Read();
                    if (!ReadString(ref json, out environment))
                    {
                        return Error("environment", "must be a string", "The field 'environment' must be a string (an environment key).");
                    }
                }
                else if (json.ValueTextEquals("context"u8))
                {
                    if (Seen(ref envelope, 2))
                    {
                        return Duplicate("context");
                    }
                    enveloped = true;
                    json.Read();
                    if (json.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }
                    if (json.TokenType != JsonTokenType.StartObject)
                    {
                        json.Skip();
                        return Error("context", "must be an object", "The field 'context' must be an object.");
                    }
                    while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
                    {
                        var problem = fields.Read(ref json, "context.");
                        if (problem is not null)
                        {
                            return problem;
                        }
                    }
                }
                else
                {
                    flat |= ContextFields.IsField(ref json);
                    var problem = fields.Read(ref json, "");
                    if (problem is not null)
                    {
                        return problem;
                    }
                }
            }
            if (enveloped && flat)
            {
                return Error("body", "must use either the flat fields or {environment, context}",
                    "Send user_id, user_email and custom_attributes at the top level, or inside 'context' with 'environment', not both.");
            }
            return Finish(ref json, out request, fields, environment, enveloped);
        }
        catch (JsonException e)
        {
            var problem = Infrastructure.Http.JsonBodyProblem.NotJson(e.LineNumber ?? 0, e.BytePositionInLine ?? 0);
            return Error(problem.Field, problem.Rule, problem.Detail);
        }
    }

    // user_id, user_email and custom_attributes, read from the object the reader is in.
    private struct ContextFields
    {
        public string? UserId;
        public string? UserEmail;
        public JsonElement? Attributes;
        private int _seen;

        // The flat fields and those inside "context" are told apart (the mix is its own 400).
        private static int Level(string prefix) => prefix.Length == 0 ? 0 : 3;

        public static bool IsField(ref Utf8JsonReader json) =>
            json.ValueTextEquals("user_id"u8) || json.ValueTextEquals("user_email"u8) || json.ValueTextEquals("custom_attributes"u8);

        // The reader is on a property name; leaves it on the property's last token.
        public RequestError? Read(ref Utf8JsonReader json, string prefix)
        {
            if (json.ValueTextEquals("user_id"u8))
            {
                if (Seen(ref _seen, 1 << Level(prefix)))
                {
                    return Duplicate(prefix + "user_id");
                }
                json.Read();
                return ReadString(ref json, out UserId) ? null
                    : Error(prefix + "user_id", "must be a string", $"The field '{prefix}user_id' must be a string.");
            }
            if (json.ValueTextEquals("user_email"u8))
            {
                if (Seen(ref _seen, 2 << Level(prefix)))
                {
                    return Duplicate(prefix + "user_email");
                }
                json.Read();
                return ReadString(ref json, out UserEmail) ? null
                    : Error(prefix + "user_email", "must be a string", $"The field '{prefix}user_email' must be a string.");
            }
            if (json.ValueTextEquals("custom_attributes"u8))
            {
                if (Seen(ref _seen, 4 << Level(prefix)))
                {
                    return Duplicate(prefix + "custom_attributes");
                }
                json.Read();
                var value = JsonElement.ParseValue(ref json);
                if (value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                {
                    return Error(prefix + "custom_attributes", "must be an object", $"The field '{prefix}custom_attributes' must be an object.");
                }
                Attributes = value.ValueKind == JsonValueKind.Object ? value : null;
                return Attributes is { } attributes && DuplicateName(attributes) is { } name
                    ? Duplicate($"{prefix}custom_attributes.{name}") : null;
            }
            json.Read();
            json.Skip(); // unknown fields are ignored, as elsewhere in the API
            return null;
        }
    }

    private static RequestError? Finish(ref Utf8JsonReader json, out EvaluateFlags.EvaluateRequest? request,
        ContextFields fields, string? environment, bool enveloped)
    {
        // Whatever follows the object must be whitespace only; the reader throws otherwise.
        while (json.Read())
        {
        }
        request = new EvaluateFlags.EvaluateRequest(fields.UserId, fields.UserEmail, fields.Attributes, environment, enveloped);
        return null;
    }

    private static bool ReadString(ref Utf8JsonReader json, out string? value)
    {
        value = null;
        if (json.TokenType == JsonTokenType.Null)
        {
            return true;
        }
        if (json.TokenType != JsonTokenType.String)
        {
            json.Skip();
            return false;
        }
        value = json.GetString();
        return true;
    }

    private static RequestError Error(string field, string rule, string detail) => new(field, rule, detail);

    // {"user_id": "a", "user_id": "b"} is ambiguous (which one did the caller mean?), so it is a 400,
    // as on every other endpoint (HttpConventions sets AllowDuplicateProperties = false there).
    private static bool Seen(ref int seen, int bit)
    {
        var before = (seen & bit) != 0;
        seen |= bit;
        return before;
    }

    private static RequestError Duplicate(string field) =>
        Error(field, "must appear only once", $"The property '{field}' appears more than once in the request body.");

    // The hot path reads every request's custom_attributes: a context has a handful of names, so
    // comparing each with the ones before it (in place, unescaping as needed) costs less than
    // allocating a set and a string per name. Large objects take the set.
    private static string? DuplicateName(JsonElement attributes)
    {
        if (attributes.GetPropertyCount() > 16)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in attributes.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    return property.Name;
                }
            }
            return null;
        }
        var index = 0;
        foreach (var property in attributes.EnumerateObject())
        {
            var raw = JsonMarshal.GetRawUtf8PropertyName(property);
            var escaped = raw.Contains((byte)'\\');
            var earlier = 0;
            foreach (var before in attributes.EnumerateObject())
            {
                if (earlier++ == index)
                {
                    break;
                }
                if (escaped ? before.NameEquals(property.Name) : before.NameEquals(raw))
                {
                    return property.Name;
                }
            }
            index++;
        }
        return null;
    }
}

public sealed record RequestError(string Field, string Rule, string Detail)
{
    public IResult ToProblem() => TypedResults.ValidationProblem(
        new Dictionary<string, string[]> { [Field] = [Rule] }, detail: Detail, title: "One or more validation errors occurred.");
}
