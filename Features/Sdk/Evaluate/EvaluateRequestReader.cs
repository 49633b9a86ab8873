using System.Buffers;
using System.IO.Pipelines;
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

    internal static RequestError? Parse(ReadOnlySequence<byte> body, out EvaluateFlags.EvaluateRequest? request)
    {
        request = null;
        string? userId = null, userEmail = null;
        JsonElement? attributes = null;
        var json = new Utf8JsonReader(body);
        try
        {
            if (!json.Read() || json.TokenType == JsonTokenType.Null)
            {
                return Finish(ref json, out request, null, null, null);
            }
            if (json.TokenType != JsonTokenType.StartObject)
            {
                json.Skip();
                return Error("body", "must be a JSON object", "The request body must be a JSON object.");
            }
            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                if (json.ValueTextEquals("user_id"u8))
                {
                    json.Read();
                    if (!ReadString(ref json, out userId))
                    {
                        return Error("user_id", "must be a string", "The field 'user_id' must be a string.");
                    }
                }
                else if (json.ValueTextEquals("user_email"u8))
                {
                    json.Read();
                    if (!ReadString(ref json, out userEmail))
                    {
                        return Error("user_email", "must be a string", "The field 'user_email' must be a string.");
                    }
                }
                else if (json.ValueTextEquals("custom_attributes"u8))
                {
                    json.Read();
                    var value = JsonElement.ParseValue(ref json);
                    if (value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                    {
                        return Error("custom_attributes", "must be an object", "The field 'custom_attributes' must be an object.");
                    }
                    attributes = value.ValueKind == JsonValueKind.Object ? value : null;
                }
                else
                {
                    json.Read();
                    json.Skip(); // unknown fields are ignored, as elsewhere in the API
                }
            }
            return Finish(ref json, out request, userId, userEmail, attributes);
        }
        catch (JsonException e)
        {
            return Error("body", "must be valid JSON", $"The request body is not valid JSON: {e.Message.Split(" LineNumber:")[0]}");
        }
    }

    private static RequestError? Finish(ref Utf8JsonReader json, out EvaluateFlags.EvaluateRequest? request,
        string? userId, string? userEmail, JsonElement? attributes)
    {
        // Whatever follows the object must be whitespace only; the reader throws otherwise.
        while (json.Read())
        {
        }
        request = new EvaluateFlags.EvaluateRequest(userId, userEmail, attributes);
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
}

public sealed record RequestError(string Field, string Rule, string Detail)
{
    public IResult ToProblem() => TypedResults.ValidationProblem(
        new Dictionary<string, string[]> { [Field] = [Rule] }, detail: Detail, title: "One or more validation errors occurred.");
}
