using System.Buffers.Binary;
using System.Numerics;

namespace FlagService.Features.Evaluation;

// murmur3_x86_32 exactly as the reference implementation; SDKs in other languages must reproduce it.
public static class Murmur3
{
    internal const uint C1 = 0xcc9e2d51;
    internal const uint C2 = 0x1b873593;

    public static uint Hash32(ReadOnlySpan<byte> data, uint seed = 0) => Continue(seed, data, data.Length);

    // The state after the whole 4-byte blocks of data (the rest of data is not read): a key that
    // starts every hashed input is mixed once, and Continue goes on from there.
    public static uint Blocks(uint h, ReadOnlySpan<byte> data)
    {
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            h = Round(h, MixK(BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4))));
        }
        return h;
    }

    // Hashes data from state h, where totalLength counts the bytes already mixed into h as well.
    public static uint Continue(uint h, ReadOnlySpan<byte> data, int totalLength)
    {
        h = Blocks(h, data);
        var tail = data[(data.Length / 4 * 4)..];
        uint t = 0;
        switch (tail.Length)
        {
            case 3:
                t ^= (uint)tail[2] << 16;
                goto case 2;
            case 2:
                t ^= (uint)tail[1] << 8;
                goto case 1;
            case 1:
                t ^= tail[0];
                h ^= MixK(t);
                break;
        }

        return Finish(h, totalLength);
    }

    // Final avalanche (fmix32): spreads similar keys such as user_1, user_2 over all buckets.
    internal static uint Finish(uint h, int totalLength)
    {
        h ^= (uint)totalLength;
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        h ^= h >> 16;
        return h;
    }

    // One block's step of the state; k is the block already mixed (MixK), which does not depend
    // on the state and may be computed ahead.
    internal static uint Round(uint h, uint k)
    {
        h ^= k;
        h = BitOperations.RotateLeft(h, 13);
        return (h * 5) + 0xe6546b64;
    }

    // As Continue over lead followed by data, without joining them: lead is what is left of a key
    // after its whole blocks (0 to 3 bytes, BucketKey.Tail), data the identifier's bytes.
    public static uint Continue(uint h, ReadOnlySpan<byte> lead, ReadOnlySpan<byte> data, int totalLength)
    {
        if (lead.Length == 0)
        {
            return Continue(h, data, totalLength);
        }
        var fill = 4 - lead.Length;
        if (data.Length < fill)
        {
            // Fewer than four bytes in all: they are the tail.
            Span<byte> joined = stackalloc byte[3];
            lead.CopyTo(joined);
            data.CopyTo(joined[lead.Length..]);
            return Continue(h, joined[..(lead.Length + data.Length)], totalLength);
        }
        // The first block: lead's bytes, then the first of data's (little-endian, as every block).
        var k = lead.Length switch
        {
            1 => lead[0] | (uint)data[0] << 8 | (uint)data[1] << 16 | (uint)data[2] << 24,
            2 => lead[0] | (uint)lead[1] << 8 | (uint)data[0] << 16 | (uint)data[1] << 24,
            _ => lead[0] | (uint)lead[1] << 8 | (uint)lead[2] << 16 | (uint)data[0] << 24,
        };
        h ^= MixK(k);
        h = BitOperations.RotateLeft(h, 13);
        h = (h * 5) + 0xe6546b64;
        return Continue(h, data[fill..], totalLength);
    }

    internal static uint MixK(uint k)
    {
        k *= C1;
        k = BitOperations.RotateLeft(k, 15);
        return k * C2;
    }
}
