using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace FlagService.Infrastructure.Http;

// What is wrong with a JSON body that System.Text.Json refused, as a field (a JSON path such as
// "rules[2].serve.weight") and a rule. The serializer's exception says where it stopped (Path) but
// not why in any typed form: a duplicate property and a wrong type are both a bare JsonException.
// So the body is read again here with Utf8JsonReader, guided by the request type's JsonTypeInfo
// (the names and types the serializer itself uses), and the first value that breaks a rule is
// reported. The serializer reads in the same order, so it is the value it stopped at.
public sealed record JsonBodyProblem(string Field, string Rule, string Detail)
{
    public static JsonBodyProblem NotJson(long line, long position) => new("body", "must be valid JSON",
        $"The request body is not valid JSON (line {line + 1}, byte {position + 1}).");

    public static JsonBodyProblem NotAnObject() => new("body", "must be a JSON object", "The request body must be a JSON object.");

    public static JsonBodyProblem Duplicate(string field) =>
        new(field, "must appear only once", $"The property '{field}' appears more than once in the request body.");

    public static JsonBodyProblem WrongType(string field, Type? expected)
    {
        var rule = $"must be {Describe(expected)}";
        return new(field, rule, $"The field '{field}' {rule}.");
    }

    // The first problem in body read as `type`, or null if the body is valid for it.
    public static JsonBodyProblem? Find(ReadOnlySpan<byte> body, JsonTypeInfo type)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read())
            {
                return NotJson(0, 0);
            }
            var problem = type.Kind == JsonTypeInfoKind.Object && reader.TokenType != JsonTokenType.StartObject
                ? NotAnObject()
                : Value(ref reader, type, "");
            if (problem is not null)
            {
                return problem;
            }
            while (reader.Read())
            {
                // Anything after the value but whitespace makes the reader throw.
            }
            return null;
        }
        catch (JsonException e)
        {
            return NotJson(e.LineNumber ?? 0, e.BytePositionInLine ?? 0);
        }
    }

    // Where the serializer stopped (its Path) and what it expected there: used when the body
    // cannot be read again.
    public static JsonBodyProblem AtPath(string? path, JsonTypeInfo? type)
    {
        var field = FieldOf(path);
        if (field is null)
        {
            return NotAnObject();
        }
        return WrongType(field, type is null ? null : TypeAt(type, path!));
    }

    // "$.rules[2]['serve'].weight" → "rules[2].serve.weight".
    private static string? FieldOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return null;
        }
        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return field.Replace("['", ".", StringComparison.Ordinal).Replace("']", "", StringComparison.Ordinal).TrimStart('.');
    }

    private static Type? TypeAt(JsonTypeInfo type, string path)
    {
        JsonTypeInfo? current = type;
        var reader = new JsonPathReader(path);
        while (current is not null && reader.Next(out var name, out var isIndex))
        {
            current = isIndex ? Element(current) : current.Kind switch
            {
                JsonTypeInfoKind.Object => Property(current, name) is { } property ? current.Options.GetTypeInfo(property.PropertyType) : null,
                JsonTypeInfoKind.Dictionary => Element(current),
                _ => null,
            };
        }
        return current?.Type;
    }

    private static JsonTypeInfo? Element(JsonTypeInfo type) =>
        type.ElementType is { } element ? type.Options.GetTypeInfo(element) : null;

    private static JsonPropertyInfo? Property(JsonTypeInfo type, string name)
    {
        var comparison = type.Options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        foreach (var property in type.Properties)
        {
            if (string.Equals(property.Name, name, comparison))
            {
                return property;
            }
        }
        return null;
    }

    // The reader is on the value's first token; leaves it on its last.
    private static JsonBodyProblem? Value(ref Utf8JsonReader reader, JsonTypeInfo type, string path)
    {
        var clr = Nullable.GetUnderlyingType(type.Type) ?? type.Type;
        if (reader.TokenType == JsonTokenType.Null)
        {
            // null binds to reference types and Nullable<T>, not to other value types.
            return type.Type.IsValueType && Nullable.GetUnderlyingType(type.Type) is null && !IsAny(clr)
                ? WrongType(Name(path), clr) : null;
        }
        if (clr != type.Type)
        {
            type = type.Options.GetTypeInfo(clr);
        }
        if (IsAny(clr))
        {
            return AnyValue(ref reader, path);
        }
        switch (type.Kind)
        {
            case JsonTypeInfoKind.Object:
                return reader.TokenType == JsonTokenType.StartObject ? Object(ref reader, type, path) : Mismatch(ref reader, path, clr);
            case JsonTypeInfoKind.Dictionary:
                return reader.TokenType == JsonTokenType.StartObject ? Dictionary(ref reader, type, path) : Mismatch(ref reader, path, clr);
            case JsonTypeInfoKind.Enumerable:
                return reader.TokenType == JsonTokenType.StartArray ? Array(ref reader, type, path) : Mismatch(ref reader, path, clr);
        }
        if (Primitive(ref reader, clr) is { } fits)
        {
            return fits ? null : Mismatch(ref reader, path, clr);
        }
        // A type with a converter of its own (Conditions): its reader and validator judge it.
        reader.Skip();
        return null;
    }

    private static JsonBodyProblem Mismatch(ref Utf8JsonReader reader, string path, Type expected)
    {
        reader.Skip();
        return WrongType(Name(path), expected);
    }

    private static JsonBodyProblem? Object(ref Utf8JsonReader reader, JsonTypeInfo type, string path)
    {
        var seen = new HashSet<JsonPropertyInfo>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            var property = Property(type, name);
            if (property is null)
            {
                reader.Skip(); // unknown properties are ignored, as the serializer does
                continue;
            }
            var field = Join(path, property.Name);
            if (!seen.Add(property))
            {
                return Duplicate(field);
            }
            var problem = property.CustomConverter is not null
                ? SkipValue(ref reader)
                : Value(ref reader, type.Options.GetTypeInfo(property.PropertyType), field);
            if (problem is not null)
            {
                return problem;
            }
        }
        return null;
    }

    private static JsonBodyProblem? Dictionary(ref Utf8JsonReader reader, JsonTypeInfo type, string path) =>
        Members(ref reader, Element(type), path);

    // An object's members, each name once, each value of `values` (any value when null).
    private static JsonBodyProblem? Members(ref Utf8JsonReader reader, JsonTypeInfo? values, string path)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            var field = Join(path, key);
            if (!seen.Add(key))
            {
                return Duplicate(field);
            }
            reader.Read();
            var problem = values is null ? AnyValue(ref reader, field) : Value(ref reader, values, field);
            if (problem is not null)
            {
                return problem;
            }
        }
        return null;
    }

    private static JsonBodyProblem? Array(ref Utf8JsonReader reader, JsonTypeInfo type, string path)
    {
        var items = Element(type);
        for (var i = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
        {
            var field = $"{path}[{i}]";
            var problem = items is null ? AnyValue(ref reader, field) : Value(ref reader, items, field);
            if (problem is not null)
            {
                return problem;
            }
        }
        return null;
    }

    // JsonElement, JsonNode and object take any value, but their objects' names must still be
    // unique (AllowDuplicateProperties = false reaches into them).
    private static JsonBodyProblem? AnyValue(ref Utf8JsonReader reader, string path)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            return Members(ref reader, null, path);
        }
        else if (reader.TokenType == JsonTokenType.StartArray)
        {
            for (var i = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
            {
                if (AnyValue(ref reader, $"{path}[{i}]") is { } problem)
                {
                    return problem;
                }
            }
        }
        return null;
    }

    private static JsonBodyProblem? SkipValue(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }

    private static bool IsAny(Type type) =>
        type == typeof(object) || type == typeof(JsonElement) || typeof(JsonNode).IsAssignableFrom(type);

    // Whether the token fits a type the serializer converts itself (strict numbers: "50" is not an
    // integer); null for a type this reader does not know.
    private static bool? Primitive(ref Utf8JsonReader reader, Type type)
    {
        var token = reader.TokenType;
        if (type == typeof(string))
        {
            return token == JsonTokenType.String;
        }
        if (type == typeof(bool))
        {
            return token is JsonTokenType.True or JsonTokenType.False;
        }
        if (type == typeof(Guid))
        {
            return token == JsonTokenType.String && reader.TryGetGuid(out _);
        }
        if (type == typeof(DateTimeOffset))
        {
            return token == JsonTokenType.String && reader.TryGetDateTimeOffset(out _);
        }
        if (type == typeof(DateTime))
        {
            return token == JsonTokenType.String && reader.TryGetDateTime(out _);
        }
        if (token != JsonTokenType.Number)
        {
            return IsNumber(type) ? false : null;
        }
        return type == typeof(int) ? reader.TryGetInt32(out _)
            : type == typeof(long) ? reader.TryGetInt64(out _)
            : type == typeof(short) ? reader.TryGetInt16(out _)
            : type == typeof(byte) ? reader.TryGetByte(out _)
            : type == typeof(double) ? reader.TryGetDouble(out _)
            : type == typeof(float) ? reader.TryGetSingle(out _)
            : type == typeof(decimal) ? reader.TryGetDecimal(out _)
            : null;
    }

    private static bool IsNumber(Type type) =>
        type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte)
        || type == typeof(double) || type == typeof(float) || type == typeof(decimal);

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string Name(string path) => path.Length == 0 ? "body" : path;

    private static string Describe(Type? type) => type switch
    {
        null => "a value of the expected type",
        _ when Nullable.GetUnderlyingType(type) is { } inner => Describe(inner),
        _ when type == typeof(string) => "a string",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) => "an integer",
        _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(Guid) => "a UUID",
        _ when type == typeof(DateTime) || type == typeof(DateTimeOffset) => "an RFC 3339 timestamp",
        _ when type.IsArray || (type.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(type)
                                && !typeof(System.Collections.IDictionary).IsAssignableFrom(type)
                                && !type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))) => "an array",
        _ => "an object",
    };

    // Steps through a serializer path ("rules[2].serve['a.b']"): names and indexes in order.
    private ref struct JsonPathReader(string path)
    {
        private int _at = path.StartsWith('$') ? 1 : 0;

        public bool Next(out string name, out bool isIndex)
        {
            name = "";
            isIndex = false;
            if (_at >= path.Length)
            {
                return false;
            }
            if (path[_at] == '.')
            {
                _at++;
            }
            if (path[_at] == '[')
            {
                var end = path[_at + 1] == '\'' ? path.IndexOf("']", _at, StringComparison.Ordinal) + 1 : path.IndexOf(']', _at);
                var inner = path[(_at + 1)..end];
                isIndex = !inner.StartsWith('\'');
                name = inner.Trim('\'');
                _at = end + 1;
                return true;
            }
            var stop = path.IndexOfAny(['.', '['], _at);
            stop = stop < 0 ? path.Length : stop;
            name = path[_at..stop];
            _at = stop;
            return true;
        }
    }
}
