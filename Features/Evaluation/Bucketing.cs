using System.Buffers;
using System.Text;

namespace FlagService.Features.Evaluation;

public static class Bucketing
{
    // Covers flag keys (64 chars) plus any realistic identifier; longer ones fall back to the shared pool.
    private const int StackLimit = 512;

    public static byte[] KeyPrefix(string flagKey) => Encoding.UTF8.GetBytes(flagKey + ":");

    public static int Bucket(string flagKey, string identifier) => Bucket(KeyPrefix(flagKey), identifier);

    // bucket = murmur3(utf8(flag_key + ":" + identifier)) % 100, with the prefix bytes precomputed per flag.
    public static int Bucket(ReadOnlySpan<byte> keyPrefix, string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var max = keyPrefix.Length + Encoding.UTF8.GetMaxByteCount(identifier.Length);
        byte[]? rented = null;
        // Sized to what is needed: the runtime zeroes every stackalloc'd byte, on every call.
        var buffer = max <= StackLimit ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            keyPrefix.CopyTo(buffer);
            // Lone surrogates become U+FFFD, as in other languages' UTF-8 encoders, so SDK-side bucketing agrees.
            var length = keyPrefix.Length + Encoding.UTF8.GetBytes(identifier, buffer[keyPrefix.Length..]);
            return (int)(Murmur3.Hash32(buffer[..length]) % 100);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
