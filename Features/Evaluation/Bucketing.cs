using System.Buffers;
using System.Text;

namespace FlagService.Features.Evaluation;

public static class Bucketing
{
    // Covers any realistic identifier; longer ones fall back to the shared pool.
    private const int StackLimit = 512;

    [ThreadStatic] private static string? t_identifier;
    [ThreadStatic] private static byte[]? t_utf8;
    [ThreadStatic] private static int t_length;

    public static int Bucket(string flagKey, string identifier) => Bucket(new BucketKey(flagKey), identifier);

    // bucket = murmur3(utf8(flag_key + ":" + identifier)) % 100. The flag's part is mixed once per
    // flag (BucketKey); the identifier is encoded once per request, not once per flag.
    public static int Bucket(BucketKey key, string identifier)
    {
        ArgumentNullException.ThrowIfNull(key);
        var id = Utf8(identifier);
        var tail = key.Tail;
        if (tail.Length == 0)
        {
            return (int)(Murmur3.Continue(key.State, id, key.Length + id.Length) % 100);
        }

        var length = tail.Length + id.Length;
        byte[]? rented = null;
        // Sized to what is needed: the runtime zeroes every stackalloc'd byte, on every call.
        var buffer = length <= StackLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            tail.CopyTo(buffer);
            id.CopyTo(buffer[tail.Length..]);
            return (int)(Murmur3.Continue(key.State, buffer[..length], key.Length + id.Length) % 100);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // A request evaluates every flag for one identifier string on one thread: its UTF-8 form is kept
    // per thread for as long as the same string comes back. Lone surrogates become U+FFFD, as in
    // other languages' UTF-8 encoders, so SDK-side bucketing agrees.
    private static ReadOnlySpan<byte> Utf8(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        if (!ReferenceEquals(identifier, t_identifier))
        {
            var max = Encoding.UTF8.GetMaxByteCount(identifier.Length);
            if (t_utf8 is null || t_utf8.Length < max)
            {
                t_utf8 = new byte[Math.Max(max, 256)];
            }
            t_length = Encoding.UTF8.GetBytes(identifier, t_utf8);
            t_identifier = identifier;
        }
        return t_utf8.AsSpan(0, t_length);
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
