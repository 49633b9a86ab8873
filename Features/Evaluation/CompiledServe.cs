using System.Text.Json;

namespace FlagService.Features.Evaluation;

// What a flag state or a rule serves: one variant, or a weighted distribution walked in its listed
// order, the first entry whose cumulative weight exceeds the identifier's bucket winning. A boolean
// flag's rollout p is the distribution [on p, off 100 - p], so its answers are v1's exactly.
internal sealed class CompiledServe
{
    private readonly int _single;
    private readonly int[] _variants;
    private readonly int[] _cumulative;
    private readonly int _whole;

    private CompiledServe(int single, int[] variants, int[] cumulative)
    {
        _single = single;
        _variants = variants;
        _cumulative = cumulative;
        _whole = -1;
        for (var i = 0; i < variants.Length; i++)
        {
            if (cumulative[i] - (i == 0 ? 0 : cumulative[i - 1]) >= 100)
            {
                _whole = variants[i];
            }
        }
    }

    public bool IsDistribution => _single < 0;

    // True when no identifier can change what is served.
    public bool IsFixed => _single >= 0 || _whole >= 0;

    public static CompiledServe Single(int variant) => new(variant, [], []);

    public static CompiledServe Rollout(int percentage)
    {
        var on = Math.Clamp(percentage, 0, 100);
        return new(-1, [CompiledFlag.OnVariant, CompiledFlag.OffVariant], [on, 100]);
    }

    // Total, like rule compilation: stored JSON that does not fit (validation keeps it out) serves
    // the fallback instead of failing the project's snapshot.
    public static CompiledServe Parse(string? json, IReadOnlyList<string> variants, int fallback)
    {
        if (string.IsNullOrEmpty(json))
        {
            return Single(fallback);
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.TryGetProperty("variant", out var single) && single.ValueKind == JsonValueKind.String)
            {
                var index = IndexOf(variants, single.GetString());
                return Single(index < 0 ? fallback : index);
            }
            if (root.TryGetProperty("distribution", out var entries) && entries.ValueKind == JsonValueKind.Array)
            {
                var chosen = new List<int>();
                var cumulative = new List<int>();
                var total = 0;
                foreach (var entry in entries.EnumerateArray())
                {
                    var index = IndexOf(variants, entry.GetProperty("variant").GetString());
                    var weight = entry.GetProperty("weight").GetInt32();
                    if (index < 0 || weight < 0)
                    {
                        return Single(fallback);
                    }
                    total += weight;
                    chosen.Add(index);
                    cumulative.Add(total);
                }
                return total == 100 ? new(-1, [.. chosen], [.. cumulative]) : Single(fallback);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
        }
        return Single(fallback);
    }

    private static int IndexOf(IReadOnlyList<string> variants, string? key)
    {
        for (var i = 0; i < variants.Count; i++)
        {
            if (variants[i] == key)
            {
                return i;
            }
        }
        return -1;
    }

    // Without an identifier a real split cannot place the user: the off variant, flagged missing.
    // bucket: the identifier's bucket for this flag when the caller has it already, else -1.
    public int Pick(BucketKey key, string? identifier, int offVariant, out bool identifierMissing, int bucket = -1)
    {
        identifierMissing = false;
        if (_single >= 0)
        {
            return _single;
        }
        if (_whole >= 0)
        {
            return _whole;
        }
        if (string.IsNullOrEmpty(identifier))
        {
            identifierMissing = true;
            return offVariant;
        }
        if (bucket < 0)
        {
            bucket = Bucketing.Bucket(key, identifier);
        }
        for (var i = 0; i < _cumulative.Length; i++)
        {
            if (_cumulative[i] > bucket)
            {
                return _variants[i];
            }
        }
        return offVariant;
    }
}
