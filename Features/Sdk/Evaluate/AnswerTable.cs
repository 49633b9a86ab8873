using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using FlagService.Features.Evaluation;

namespace FlagService.Features.Sdk.Evaluate;

// The /sdk/v1/evaluate answer's entries of one environment snapshot, by flag index and outcome, as
// UTF-8 JSON after the comma that separates an entry from the one before:
//   ,"key":{"enabled":true,"reason":"rollout","variant":"on","value":true}
// (the first entry of an answer is written without it). A flag has a handful of outcomes, so each
// entry is written once, on first use, and answers copy bytes instead of writing JSON for every flag
// of every request: what this buys is measured by bench/ServerBenchmarks (the 1 000-flag case most).
// The engine only says what was served (an outcome); this table is the SDK's wire format of it.
internal sealed class AnswerTable
{
    // One table per snapshot, dropped with it: a configuration change starts a new one.
    private static readonly ConditionalWeakTable<EnvironmentSnapshot, AnswerTable> Tables = new();
    private static readonly ConditionalWeakTable<EnvironmentSnapshot, AnswerTable>.CreateValueCallback Build = s => new AnswerTable(s);

    private readonly CompiledFlag[] _flags;
    private readonly byte[]?[][] _entries;

    private AnswerTable(EnvironmentSnapshot snapshot)
    {
        Environment = JsonEncodedText.Encode(snapshot.Key);
        _flags = snapshot.Flags;
        _entries = Array.ConvertAll(_flags, f => new byte[]?[f.Variants.Length << Outcome.ReasonBits]);
    }

    // The environment's key, for the {"environment": ..., "flags": {...}} answer.
    public JsonEncodedText Environment { get; }

    public static AnswerTable Of(EnvironmentSnapshot snapshot) =>
        Tables.TryGetValue(snapshot, out var table) ? table : Tables.GetValue(snapshot, Build);

    // Racing first uses build equal arrays; either may stay.
    public byte[] Entry(int flag, ushort outcome) => _entries[flag][outcome] ??= Write(_flags[flag], outcome);

    private static byte[] Write(CompiledFlag flag, ushort outcome)
    {
        var (variant, reason) = (Outcome.Variant(outcome), Outcome.Reason(outcome));
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject(flag.Key);
            json.WriteBoolean("enabled", flag.IsEnabled(variant, reason));
            json.WriteString("reason", reason.ToWire());
            json.WriteString("variant", flag.Variants[variant]);
            // The value as stored: validated JSON when written.
            json.WritePropertyName("value");
            json.WriteRawValue(JsonMarshal.GetRawUtf8Value(flag.Values[variant]), skipInputValidation: true);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        var entry = buffer.WrittenSpan[..^1].ToArray();
        entry[0] = (byte)',';
        return entry;
    }
}
