using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlagService.Features.Rules;

// The `conditions` of an attribute_match rule as raw JSON: RuleValidation checks it field by field,
// so that errors name the exact condition and field. A type of its own lets OpenAPI describe it.
[JsonConverter(typeof(ConditionsConverter))]
public sealed record Conditions(JsonElement Json)
{
    public bool IsPresent => Json.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);

    // jsonb reorders object keys; read back in the documented order (attribute, operator, values, ...).
    public static Conditions FromStored(string conditions)
    {
        var stored = JsonDocument.Parse(conditions).RootElement;
        try
        {
            return new(JsonDocument.Parse(FlagService.Features.Evaluation.RuleValidation.NormalizeConditions(stored)).RootElement.Clone());
        }
        catch (ArgumentException)
        {
            return new(stored.Clone()); // edited by hand into something invalid: shown as stored
        }
    }

    private sealed class ConditionsConverter : JsonConverter<Conditions>
    {
        public override Conditions Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            new(JsonElement.ParseValue(ref reader));

        public override void Write(Utf8JsonWriter writer, Conditions value, JsonSerializerOptions options) =>
            value.Json.WriteTo(writer);
    }
}
