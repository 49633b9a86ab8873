using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace FlagService.Features.Evaluation;

// What the conditions on an attribute need besides its text: the number in a numeric string, a
// semantic version, an instant. Decoded once per context for the attributes that some condition
// compares that way.
[Flags]
public enum AttributeUses
{
    None = 0,
    Number = 1,
    Version = 2,
    Instant = 4,
}

// Every custom attribute a compiled condition reads gets a slot number, once, process-wide. A
// context's custom attributes are then decoded once into an array by slot (AttributeValue), and
// each condition reads its slot, instead of every condition scanning the request's JSON for its
// name and decoding and parsing the value again (an attribute rule set of 180 conditions did 180
// scans per request).
public static class AttributeSlots
{
    // Beyond this many names conditions fall back to looking up by name (correct, slower).
    public const int MaxSlots = 4096;
    private const int StackChars = 256;

    private static readonly ConcurrentDictionary<string, int> Slots = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> BySpan =
        Slots.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly int[] Uses = new int[MaxSlots];
    private static readonly Lock Gate = new();
    private static int s_generation;

    [ThreadStatic] private static AttributeValue[]? t_values;
    [ThreadStatic] private static char[]? t_chars;

    public static int Count => Slots.Count;

    // Changes whenever a slot is added or a slot's uses grow: values decoded before are stale.
    public static int Generation => Volatile.Read(ref s_generation);

    // The slot of an attribute name, or -1 when the table is full.
    public static int Of(string name, AttributeUses uses = AttributeUses.None)
    {
        if (!Slots.TryGetValue(name, out var slot))
        {
            lock (Gate)
            {
                if (!Slots.TryGetValue(name, out slot))
                {
                    if (Slots.Count >= MaxSlots)
                    {
                        return -1;
                    }
                    slot = Slots.Count;
                    Slots[name] = slot;
                    Interlocked.Increment(ref s_generation);
                }
            }
        }
        if (((AttributeUses)Volatile.Read(ref Uses[slot]) & uses) != uses)
        {
            Interlocked.Or(ref Uses[slot], (int)uses);
            Interlocked.Increment(ref s_generation);
        }
        return slot;
    }

    // The request's attributes by slot, in per-thread arrays that stay valid until this thread
    // reads the next request's: evaluation uses them synchronously, then drops them. A name
    // repeated in the object is read last one wins, as JsonElement.TryGetProperty does.
    public static AttributeValue[] Read(JsonElement attributes)
    {
        var count = Slots.Count;
        var values = t_values;
        if (values is null || values.Length < count)
        {
            t_values = values = new AttributeValue[Math.Max(16, count * 2)];
        }
        else
        {
            Array.Clear(values, 0, count);
        }
        var chars = t_chars ??= new char[1024];
        var used = 0;
        foreach (var property in attributes.EnumerateObject())
        {
            var slot = Find(property);
            if (slot >= 0 && slot < values.Length)
            {
                values[slot] = Decode(property.Value, slot, ref chars, ref used);
            }
        }
        t_chars = chars;
        return values;
    }

    // A context's attributes by slot in an array of its own (the .NET client keeps one per context).
    public static AttributeValue[] Decode(IReadOnlyDictionary<string, JsonElement> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var values = new AttributeValue[Math.Max(1, Slots.Count)];
        char[]? chars = null;
        var used = 0;
        foreach (var (name, value) in attributes)
        {
            if (Slots.TryGetValue(name, out var slot) && slot < values.Length)
            {
                chars ??= new char[256];
                values[slot] = Decode(value, slot, ref chars, ref used);
            }
        }
        return values;
    }

    // Strings are decoded into chars (the caller's buffer, grown as needed: values decoded before
    // keep the old one); escaped ones, rare, by the JSON decoder.
    private static AttributeValue Decode(JsonElement element, int slot, ref char[] chars, ref int used)
    {
        var uses = (AttributeUses)Volatile.Read(ref Uses[slot]);
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                var raw = JsonMarshal.GetRawUtf8Value(element)[1..^1];
                ReadOnlyMemory<char> text;
                if (raw.Contains((byte)'\\'))
                {
                    text = element.GetString().AsMemory();
                }
                else
                {
                    if (chars.Length - used < raw.Length)
                    {
                        chars = new char[Math.Max(chars.Length * 2, raw.Length)];
                        used = 0;
                    }
                    var length = Encoding.UTF8.GetChars(raw, chars.AsSpan(used));
                    text = chars.AsMemory(used, length);
                    used += length;
                }
                return AttributeValue.OfText(element, text, uses);
            case JsonValueKind.Number:
                return AttributeValue.OfNumber(element, element.TryGetDouble(out var number) && double.IsFinite(number), number);
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Null)
                    {
                        return AttributeValue.Other(element, AttributeKind.Array);
                    }
                }
                return default;
            case JsonValueKind.True:
                return AttributeValue.Other(element, AttributeKind.True);
            case JsonValueKind.False:
                return AttributeValue.Other(element, AttributeKind.False);
            case JsonValueKind.Object:
                return AttributeValue.Other(element, AttributeKind.Object);
            default:
                return default;
        }
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

public enum AttributeKind : byte
{
    // Missing, JSON null, or an array of nulls only: every operator but exists fails.
    Absent,
    String,
    Number,
    True,
    False,
    Array,
    Object,
}

// One custom attribute of a context, decoded once for every condition that reads it. For strings,
// the parsed forms that the slot's conditions compare (AttributeUses) are computed here too.
public readonly struct AttributeValue
{
    private AttributeValue(JsonElement element, AttributeKind kind)
    {
        Element = element;
        Kind = kind;
    }

    private AttributeValue(JsonElement element, ReadOnlyMemory<char> text, AttributeUses uses) : this(element, AttributeKind.String)
    {
        Text = text;
        var span = text.Span;
        if ((uses & AttributeUses.Number) != 0)
        {
            HasNumber = ConditionValues.TryParseNumber(span, out var number);
            Number = number;
        }
        if ((uses & AttributeUses.Version) != 0 && SemanticVersion.TryParseParts(span, out var major, out var minor, out var patch, out var prerelease))
        {
            HasVersion = true;
            (Major, Minor, Patch) = (major, minor, patch);
            // The pre-release is a slice of the text: its offset, found from the spans' addresses.
            PrereleaseStart = prerelease.IsEmpty ? 0 : (int)((nint)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(span), ref MemoryMarshal.GetReference(prerelease)) / sizeof(char));
            PrereleaseLength = prerelease.Length;
        }
        if ((uses & AttributeUses.Instant) != 0)
        {
            HasInstant = ConditionValues.TryParseInstant(span, out var instant);
            Instant = instant;
        }
    }

    internal static AttributeValue OfText(JsonElement element, ReadOnlyMemory<char> text, AttributeUses uses) => new(element, text, uses);

    internal static AttributeValue OfNumber(JsonElement element, bool finite, double number) =>
        new(element, AttributeKind.Number) { HasNumber = finite, Number = number };

    internal static AttributeValue Other(JsonElement element, AttributeKind kind) => new(element, kind);

    public JsonElement Element { get; }
    public AttributeKind Kind { get; }
    public ReadOnlyMemory<char> Text { get; }

    // A JSON number when finite, or a numeric string (when a condition on the slot compares numbers).
    public bool HasNumber { get; private init; }
    public double Number { get; private init; }

    public bool HasVersion { get; }
    public ulong Major { get; }
    public ulong Minor { get; }
    public ulong Patch { get; }
    public ReadOnlySpan<char> Prerelease => Text.Span.Slice(PrereleaseStart, PrereleaseLength);
    private int PrereleaseStart { get; }
    private int PrereleaseLength { get; }

    public bool HasInstant { get; }
    public DateTimeOffset Instant { get; }
}
