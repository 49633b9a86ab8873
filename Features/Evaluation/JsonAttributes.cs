using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace FlagService.Features.Evaluation;

// A JSON object's properties seen as the custom attributes of an evaluation context, without
// copying them into a dictionary: conditions only look attributes up by name, and a context has few.
public sealed class JsonAttributes(JsonElement attributes) : IReadOnlyDictionary<string, JsonElement>
{
    public JsonElement Element => attributes;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out JsonElement value) => attributes.TryGetProperty(key, out value);

    public bool TryGetValue(ReadOnlySpan<byte> utf8Key, out JsonElement value) => attributes.TryGetProperty(utf8Key, out value);

    public JsonElement this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    public bool ContainsKey(string key) => attributes.TryGetProperty(key, out _);

    public IEnumerable<string> Keys => attributes.EnumerateObject().Select(p => p.Name);

    public IEnumerable<JsonElement> Values => attributes.EnumerateObject().Select(p => p.Value);

    public int Count => attributes.EnumerateObject().Count();

    public IEnumerator<KeyValuePair<string, JsonElement>> GetEnumerator() =>
        attributes.EnumerateObject().Select(p => new KeyValuePair<string, JsonElement>(p.Name, p.Value)).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
