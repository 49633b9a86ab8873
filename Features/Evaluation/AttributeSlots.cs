using System.Buffers;
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

// Every custom attribute that a project snapshot's conditions read gets a slot number in that
// snapshot's own table, given while the snapshot compiles. A context's custom attributes are then
// decoded once into an array by slot (AttributeValue), and each condition reads its slot, instead
// of every condition scanning the request's JSON for its name and decoding and parsing the value
// again (an attribute rule set of 180 conditions did 180 scans per request). The table belongs to
// the snapshot, not the process, so a request decodes only the names its own project's conditions
// read: another project's attributes cost it nothing.
public sealed class AttributeSlots
{
    // Beyond this many names conditions fall back to looking up by name (correct, slower).
    public const int MaxSlots = 4096;
    private const int StackChars = 256;

    // Filled while the snapshot compiles, on the compiling thread; read-only once the snapshot is
    // published, so requests read it without locks.
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private AttributeUses[] _uses = new AttributeUses[8];

    // Scratch for one request at a time per thread, whichever table decodes into it.
    [ThreadStatic] private static AttributeValue[]? t_values;
    [ThreadStatic] private static char[]? t_chars;

    public AttributeSlots() => _bySpan = _slots.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Count => _slots.Count;

    // The slot of an attribute name, or -1 when the table is full. Only while compiling.
    internal int Of(string name, AttributeUses uses = AttributeUses.None)
    {
        if (!_slots.TryGetValue(name, out var slot))
        {
            if (_slots.Count >= MaxSlots)
            {
                return -1;
            }
            slot = _slots.Count;
            _slots.Add(name, slot);
            if (slot == _uses.Length)
            {
                Array.Resize(ref _uses, slot * 2);
            }
        }
        _uses[slot] |= uses;
        return slot;
    }

    // The request's attributes by slot, in a per-thread array that stays valid until this thread
    // reads the next request's: evaluation uses them synchronously, then drops them. A name
    // repeated in the object is read last one wins, as JsonElement.TryGetProperty does.
    public DecodedAttributes Read(JsonElement attributes)
    {
        var count = _slots.Count;
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
            if (slot >= 0)
            {
                values[slot] = Decode(property.Value, _uses[slot], ref chars, ref used);
            }
        }
        t_chars = chars;
        return new DecodedAttributes(this, values);
    }

    // A context's attributes by slot in an array of its own (the .NET client keeps one per context
    // and snapshot).
    public DecodedAttributes Decode(IReadOnlyDictionary<string, JsonElement> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var values = new AttributeValue[Math.Max(1, _slots.Count)];
        char[]? chars = null;
        var used = 0;
        foreach (var (name, value) in attributes)
        {
            if (_slots.TryGetValue(name, out var slot))
            {
                chars ??= new char[256];
                values[slot] = Decode(value, _uses[slot], ref chars, ref used);
            }
        }
        return new DecodedAttributes(this, values);
    }

    // Strings are decoded into chars (the caller's buffer, grown as needed: values decoded before
    // keep the old one); escaped ones, rare, by the JSON decoder.
    private static AttributeValue Decode(JsonElement element, AttributeUses uses, ref char[] chars, ref int used)
    {
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

    private int Find(JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.Contains((byte)'\\') || raw.Length > StackChars)
        {
            return _slots.TryGetValue(property.Name, out var escaped) ? escaped : -1;
        }
        Span<char> chars = stackalloc char[raw.Length];
        var length = Encoding.UTF8.GetChars(raw, chars);
        return _bySpan.TryGetValue(chars[..length], out var slot) ? slot : -1;
    }
}

// A context's custom attributes decoded by one table's slots (Values[slot]). A condition reads its
// slot only when it was compiled against that same table, and looks its name up otherwise, so a
// context decoded for another snapshot is never misread.
public readonly record struct DecodedAttributes(AttributeSlots? Slots, AttributeValue[]? Values);

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
