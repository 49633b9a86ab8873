using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace FlagService.Features.Evaluation;

// Every custom attribute a compiled condition reads gets a slot number, once, process-wide. A
// request then reads its custom_attributes object once into an array by slot, and each condition
// reads its slot, instead of every condition scanning the request's JSON for its name again (an
// attribute rule set of 180 conditions did 180 scans per request).
public static class AttributeSlots
{
    // Beyond this many names conditions fall back to looking up by name (correct, slower).
    public const int MaxSlots = 4096;
    private const int StackChars = 256;

    private static readonly ConcurrentDictionary<string, int> Slots = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> BySpan =
        Slots.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly Lock Gate = new();

    [ThreadStatic] private static JsonElement[]? t_values;

    public static int Count => Slots.Count;

    // The slot of an attribute name, or -1 when the table is full.
    public static int Of(string name)
    {
        if (Slots.TryGetValue(name, out var slot))
        {
            return slot;
        }
        lock (Gate)
        {
            if (Slots.TryGetValue(name, out slot))
            {
                return slot;
            }
            if (Slots.Count >= MaxSlots)
            {
                return -1;
            }
            slot = Slots.Count;
            Slots[name] = slot;
            return slot;
        }
    }

    // The request's attributes by slot (Undefined: absent), in a per-thread array that stays valid
    // until this thread reads the next request's: evaluation uses it synchronously, then drops it.
    // A name repeated in the object is read last one wins, as JsonElement.TryGetProperty does.
    public static JsonElement[] Read(JsonElement attributes)
    {
        var count = Slots.Count;
        var values = t_values;
        if (values is null || values.Length < count)
        {
            t_values = values = new JsonElement[Math.Max(16, count * 2)];
        }
        else
        {
            Array.Clear(values, 0, count);
        }
        foreach (var property in attributes.EnumerateObject())
        {
            var slot = Find(property);
            if (slot >= 0 && slot < values.Length)
            {
                values[slot] = property.Value;
            }
        }
        return values;
    }

    private static int Find(JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.Contains((byte)'\\') || raw.Length > StackChars)
        {
            return Slots.TryGetValue(property.Name, out var escaped) ? escaped : -1;
        }
        Span<char> chars = stackalloc char[raw.Length];
        var length = Encoding.UTF8.GetChars(raw, chars);
        return BySpan.TryGetValue(chars[..length], out var slot) ? slot : -1;
    }
}
