using System.Text;

namespace FlagService.Features.Evaluation;

public static class Bucketing
{
    [ThreadStatic] private static Utf8Identifier? t_identifier;

    public static int Bucket(string flagKey, string identifier) => Bucket(new BucketKey(flagKey), identifier);

    // bucket = murmur3(utf8(flag_key + ":" + identifier)) % 100. The flag's part is mixed once per
    // flag (BucketKey); the identifier is encoded once per request, not once per flag.
    public static int Bucket(BucketKey key, string identifier)
    {
        ArgumentNullException.ThrowIfNull(key);
        var id = Utf8(identifier);
        return (int)(Murmur3.Continue(key.State, key.Tail, id, key.Length + id.Length) % 100);
    }

    // A request evaluates every flag for one identifier string on one thread: its UTF-8 form is kept
    // per thread for as long as the same string comes back. Lone surrogates become U+FFFD, as in
    // other languages' UTF-8 encoders, so SDK-side bucketing agrees.
    private static ReadOnlySpan<byte> Utf8(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var cached = t_identifier ??= new Utf8Identifier();
        if (!ReferenceEquals(identifier, cached.Identifier))
        {
            var max = Encoding.UTF8.GetMaxByteCount(identifier.Length);
            if (cached.Bytes.Length < max)
            {
                cached.Bytes = new byte[Math.Max(max, 256)];
            }
            cached.Length = Encoding.UTF8.GetBytes(identifier, cached.Bytes);
            cached.Identifier = identifier;
        }
        return cached.Bytes.AsSpan(0, cached.Length);
    }

    // One thread-static object, so that a lookup costs one thread-local access.
    private sealed class Utf8Identifier
    {
        public string? Identifier;
        public byte[] Bytes = [];
        public int Length;
    }
}

// A flag key's share of every bucketing hash: "key:" mixed into murmur3's state up to its last
// whole 4-byte block, and the 0 to 3 bytes left over, which lead the identifier's bytes.
public sealed class BucketKey
{
    public BucketKey(string flagKey)
    {
        var bytes = Encoding.UTF8.GetBytes(flagKey + ":");
        State = Murmur3.Blocks(0, bytes);
        Tail = bytes[(bytes.Length / 4 * 4)..];
        Length = bytes.Length;
    }

    internal uint State { get; }
    internal byte[] Tail { get; }
    internal int Length { get; }
}
