using System.Text.Json;
using System.Text.Json.Serialization;
using FlagService.Features.Evaluation;

namespace FlagService.Features.Ofrep;

// The OpenFeature Remote Evaluation Protocol's vocabulary (OFREP 0.3.0): camelCase bodies, error
// codes, reasons, and the context mapping onto our evaluation context.
public static class Ofrep
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public sealed record Evaluation(
        string Key, JsonElement? Value = null, string? Variant = null, string? Reason = null,
        Dictionary<string, object>? Metadata = null, string? ErrorCode = null, string? ErrorDetails = null);

    // Errors are problem details (API.md) that also carry OFREP's key/errorCode/errorDetails, the
    // fields the OpenFeature providers read.
    public sealed record Error(
        string Type, string Title, int Status, string Detail, string? Key, string ErrorCode, string ErrorDetails);

    public static IResult Failure(int status, string? key, string errorCode, string details) =>
        TypedResults.Json(new Error("about:blank", errorCode switch
        {
            "FLAG_NOT_FOUND" => "Flag not found",
            "PARSE_ERROR" => "Request body is not valid JSON",
            "TARGETING_KEY_MISSING" => "Targeting key missing",
            _ => "Invalid evaluation context",
        }, status, details, key, errorCode, details), Json, "application/problem+json", status);

    // targetingKey -> user_id, email -> user_email, everything else -> custom attributes.
    // Returns an INVALID_CONTEXT message, or null when the context is usable.
    public static string? ReadContext(JsonElement root, out EvaluationContext context)
    {
        context = default;
        if (root.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return null;
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "The request body must be a JSON object with a 'context' object.";
        }
        if (!root.TryGetProperty("context", out var ctx) || ctx.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (ctx.ValueKind != JsonValueKind.Object)
        {
            return "'context' must be a JSON object.";
        }

        string? userId = null, email = null;
        Dictionary<string, JsonElement>? attributes = null;
        foreach (var property in ctx.EnumerateObject())
        {
            switch (property.Name)
            {
                case "targetingKey" when property.Value.ValueKind == JsonValueKind.String:
                    userId = property.Value.GetString();
                    break;
                case "targetingKey" when property.Value.ValueKind != JsonValueKind.Null:
                    return "'targetingKey' must be a string.";
                case "email" when property.Value.ValueKind == JsonValueKind.String:
                    email = property.Value.GetString();
                    break;
                case "email" when property.Value.ValueKind != JsonValueKind.Null:
                    return "'email' must be a string.";
                case "targetingKey" or "email":
                    break;
                default:
                    (attributes ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal))[property.Name] = property.Value;
                    break;
            }
        }
        context = new EvaluationContext(userId, email, attributes);
        return null;
    }

    public static Evaluation Describe(CompiledFlag flag, EvaluationResult result)
    {
        var reason = result.Reason switch
        {
            EvaluationReason.Disabled => "DISABLED",
            EvaluationReason.RuleMatch => "TARGETING_MATCH",
            // OpenFeature has no reason of its own for this; reasons may be any string.
            EvaluationReason.PrerequisiteFailed => "PREREQUISITE_FAILED",
            _ when flag.IsStatic => "STATIC",
            _ when flag.IsSplit => "SPLIT",
            // One variant (or 0 % / 100 %) reached after rules that did not match: the flag's default answer.
            _ => "DEFAULT",
        };
        var metadata = result.RuleId is { } ruleId ? new Dictionary<string, object> { ["ruleId"] = ruleId.ToString() } : [];
        // The served variant's value with its real type, so typed OpenFeature calls can check it.
        return new Evaluation(flag.Key, flag.Values[result.Variant], flag.Variants[result.Variant], reason, metadata);
    }

    public static string MissingKeyDetails(string flagKey) =>
        $"Flag '{flagKey}' rolls out to a percentage of users and needs a targetingKey (or an email) to place this one.";
}
