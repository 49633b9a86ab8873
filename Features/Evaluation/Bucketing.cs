using System.Numerics;
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
        for (var i = Tail.Length - 1; i >= 0; i--)
        {
            Lead = (Lead << 8) | Tail[i];
        }
        Length = bytes.Length;
    }

    internal uint State { get; }
    internal byte[] Tail { get; }

    // Tail as the low bytes of murmur3's next block (little-endian).
    internal uint Lead { get; }
    internal int Length { get; }
}

// The buckets of one identifier for many flag keys at once: the splitting flags of a snapshot,
// hashed for each request from 64 flags on. Keys are grouped by how many bytes of "key:" lead
// the identifier's first block (0 to 3); in a group every key reads the same identifier blocks,
// so murmur3's chain runs for several keys side by side in vector lanes, and the blocks are read
// and mixed once per request instead of once per key. Bucket by bucket the same as Bucketing.Bucket.
public sealed class BucketBatch
{
    [ThreadStatic] private static IdentifierBlocks? t_blocks;

    private readonly int[][] _index = new int[4][];
    private readonly uint[][] _state = new uint[4][];
    private readonly uint[][] _lead = new uint[4][];
    private readonly uint[][] _length = new uint[4][];
    private readonly BucketKey[][] _keys = new BucketKey[4][];

    // keys[i] is bucketed into buckets[index[i]].
    public BucketBatch(IReadOnlyList<int> index, IReadOnlyList<BucketKey> keys)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(keys);
        for (var lead = 0; lead < 4; lead++)
        {
            var group = Enumerable.Range(0, keys.Count).Where(i => keys[i].Tail.Length == lead).ToArray();
            _index[lead] = Array.ConvertAll(group, i => index[i]);
            _state[lead] = Array.ConvertAll(group, i => keys[i].State);
            _lead[lead] = Array.ConvertAll(group, i => keys[i].Lead);
            _length[lead] = Array.ConvertAll(group, i => (uint)keys[i].Length);
            _keys[lead] = Array.ConvertAll(group, i => keys[i]);
        }
    }

    public void Buckets(string identifier, Span<byte> buckets)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var blocks = t_blocks ??= new IdentifierBlocks();
        blocks.Prepare(identifier);
        Span<uint> lanes = stackalloc uint[Vector<uint>.Count];
        for (var lead = 0; lead < 4; lead++)
        {
            var index = _index[lead];
            var state = _state[lead];
            var keyLead = _lead[lead];
            var length = _length[lead];
            var mixed = blocks.Blocks(lead);
            var i = 0;
            if (Vector.IsHardwareAccelerated && !blocks.IsShort(lead))
            {
                var first = new Vector<uint>(blocks.First(lead));
                var identifierLength = new Vector<uint>((uint)blocks.Length);
                for (; i <= index.Length - Vector<uint>.Count; i += Vector<uint>.Count)
                {
                    var h = new Vector<uint>(state, i);
                    if (lead > 0)
                    {
                        h = Round(h, MixK(new Vector<uint>(keyLead, i) | first));
                    }
                    foreach (var block in mixed)
                    {
                        h = Round(h, new Vector<uint>(block));
                    }
                    if (blocks.HasTail(lead))
                    {
                        h ^= new Vector<uint>(blocks.Tail(lead));
                    }
                    Finish(h, new Vector<uint>(length, i) + identifierLength).CopyTo(lanes);
                    for (var lane = 0; lane < lanes.Length; lane++)
                    {
                        buckets[index[i + lane]] = (byte)(lanes[lane] % 100);
                    }
                }
            }
            // What is left over, or every key of the group when the identifier is too short to fill
            // their first block: one by one.
            for (; i < index.Length; i++)
            {
                buckets[index[i]] = (byte)Bucketing.Bucket(_keys[lead][i], identifier);
            }
        }
    }

    private static Vector<uint> MixK(Vector<uint> k)
    {
        k *= new Vector<uint>(Murmur3.C1);
        k = Vector.ShiftLeft(k, 15) | Vector.ShiftRightLogical(k, 17);
        return k * new Vector<uint>(Murmur3.C2);
    }

    private static Vector<uint> Round(Vector<uint> h, Vector<uint> k)
    {
        h ^= k;
        h = Vector.ShiftLeft(h, 13) | Vector.ShiftRightLogical(h, 19);
        return h * new Vector<uint>(5) + new Vector<uint>(0xe6546b64);
    }

    private static Vector<uint> Finish(Vector<uint> h, Vector<uint> totalLength)
    {
        h ^= totalLength;
        h ^= Vector.ShiftRightLogical(h, 16);
        h *= new Vector<uint>(0x85ebca6b);
        h ^= Vector.ShiftRightLogical(h, 13);
        h *= new Vector<uint>(0xc2b2ae35);
        return h ^ Vector.ShiftRightLogical(h, 16);
    }

    // The identifier's UTF-8 bytes cut into murmur3's blocks for each of the four ways a key can
    // lead them: the bytes that complete the key's last block (already shifted behind its bytes),
    // the whole blocks after them, mixed (MixK does not depend on the state), and the mixed tail.
    // Lone surrogates become U+FFFD, as in Bucketing.
    private sealed class IdentifierBlocks
    {
        private string? _identifier;
        private byte[] _bytes = [];
        private readonly uint[] _first = new uint[4];
        private readonly bool[] _short = new bool[4];
        private readonly uint[][] _blocks = [[], [], [], []];
        private readonly int[] _blockCount = new int[4];
        private readonly uint[] _tail = new uint[4];
        private readonly bool[] _hasTail = new bool[4];

        public int Length { get; private set; }

        public uint First(int lead) => _first[lead];

        // Fewer identifier bytes than it takes to complete the key's last block: all are the tail.
        public bool IsShort(int lead) => _short[lead];

        public ReadOnlySpan<uint> Blocks(int lead) => _blocks[lead].AsSpan(0, _blockCount[lead]);

        public bool HasTail(int lead) => _hasTail[lead];

        public uint Tail(int lead) => _tail[lead];

        public void Prepare(string identifier)
        {
            if (ReferenceEquals(identifier, _identifier))
            {
                return;
            }
            var max = Encoding.UTF8.GetMaxByteCount(identifier.Length);
            if (_bytes.Length < max)
            {
                _bytes = new byte[Math.Max(max, 256)];
            }
            Length = Encoding.UTF8.GetBytes(identifier, _bytes);
            var data = _bytes.AsSpan(0, Length);
            for (var lead = 0; lead < 4; lead++)
            {
                var fill = lead == 0 ? 0 : 4 - lead;
                _short[lead] = data.Length < fill;
                _first[lead] = Little(data[..Math.Min(fill, data.Length)]) << (8 * lead);
                var rest = _short[lead] ? [] : data[fill..];
                var count = rest.Length / 4;
                if (_blocks[lead].Length < count)
                {
                    _blocks[lead] = new uint[Math.Max(count, 64)];
                }
                _blockCount[lead] = count;
                for (var i = 0; i < count; i++)
                {
                    _blocks[lead][i] = Murmur3.MixK(Little(rest.Slice(i * 4, 4)));
                }
                var tail = rest[(count * 4)..];
                _hasTail[lead] = tail.Length > 0;
                _tail[lead] = tail.Length > 0 ? Murmur3.MixK(Little(tail)) : 0;
            }
            _identifier = identifier;
        }

        // Up to four bytes as a little-endian number, as murmur3 reads blocks and its tail.
        private static uint Little(ReadOnlySpan<byte> bytes)
        {
            uint value = 0;
            for (var i = bytes.Length - 1; i >= 0; i--)
            {
                value = (value << 8) | bytes[i];
            }
            return value;
        }
    }
}
