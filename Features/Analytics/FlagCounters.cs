using FlagService.Features.Evaluation;

namespace FlagService.Features.Analytics;

// Evaluation counts of one flag in one environment, by minute and outcome (reason x variant, see
// Outcome), written by many request threads at once without contention: each processor increments
// its own stripe. A ring of four minute slots lets the harvester read finished minutes while the
// current one is being written. The striping and its locks stay in this file: callers count a
// snapshot's outcomes (Group.Add) or one flag's (Add) and never see a stripe.
public sealed class FlagCounters
{
    public const int Slots = 4;

    // A request counts every flag of a snapshot into one stripe, under that stripe's lock taken
    // once per request, with plain increments (a thousand interlocked ones cost more than the
    // evaluation: bench/ServerBenchmarks' 1 000-flag case, FlagCountersTests for exactness). A
    // request that finds its stripe taken (its thread was preempted inside, or two threads share a
    // processor) counts into the shared stripe, the last, which only ever takes interlocked
    // increments; so do single counts (OFREP's one flag, the client's reports).
    private static readonly int LockedStripes = Math.Max(1, Environment.ProcessorCount);
    private static readonly int Stripes = LockedStripes + 1;
    private const int LockSpacing = 16; // ints: one cache line per stripe lock
    private static readonly int[] StripeLocks = new int[LockedStripes * LockSpacing];
    private static int SharedStripe => LockedStripes;

    private readonly int _outcomes;

    // [slot][stripe][outcome]; an outcome is directly its index (variant << 3 | reason).
    private readonly long[] _counts;

    // Harvester-only state: which minute each slot holds, and what of it has been harvested.
    private readonly long[] _slotMinute = [-1, -1, -1, -1];
    private readonly long[] _harvested;

    public FlagCounters(Guid environmentId, Guid flagId, string[] variants, long currentMinute)
    {
        ArgumentNullException.ThrowIfNull(variants);
        EnvironmentId = environmentId;
        FlagId = flagId;
        Variants = variants;
        _outcomes = Outcome.ReasonSlots * variants.Length;
        _counts = new long[Slots * Stripes * _outcomes];
        _harvested = new long[Slots * _outcomes];
        _slotMinute[currentMinute & (Slots - 1)] = currentMinute;
        _slotMinute[(currentMinute + 1) & (Slots - 1)] = currentMinute + 1;
    }

    public Guid EnvironmentId { get; }
    public Guid FlagId { get; }

    // The variant keys that outcomes index into.
    public string[] Variants { get; }

    // count evaluations of one outcome in this minute (one flag served, or a client's reported batch).
    public void Add(long minute, int outcome, long count = 1) =>
        Interlocked.Add(ref _counts[Cell(minute, SharedStripe) * _outcomes + outcome], count);

    private static int Cell(long minute, int stripe) => ((int)(minute & (Slots - 1)) * Stripes) + stripe;

    // The counters of every flag of one snapshot, by flag index, counted together: one request's
    // outcomes, under one stripe lock.
    public sealed class Group(FlagCounters[] flags)
    {
        // What counting into each flag needs, held by value side by side: counting a thousand
        // flags then reads one array in order and touches one line per flag.
        private readonly Target[] _targets = Array.ConvertAll(flags, f => new Target(f._counts, f._outcomes));

        public IReadOnlyList<FlagCounters> Flags { get; } = flags;

        // outcomes[i]: what flag i served, for every flag of the snapshot.
        public void Add(long minute, ReadOnlySpan<ushort> outcomes)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(outcomes.Length, _targets.Length);
            var targets = _targets;
            var stripe = Thread.GetCurrentProcessorId() % LockedStripes;
            ref var gate = ref StripeLocks[stripe * LockSpacing];
            if (Interlocked.CompareExchange(ref gate, 1, 0) == 0)
            {
                var cell = Cell(minute, stripe);
                try
                {
                    for (var i = 0; i < outcomes.Length; i++)
                    {
                        targets[i].AddLocked(cell, outcomes[i]);
                    }
                }
                finally
                {
                    Volatile.Write(ref gate, 0);
                }
            }
            else
            {
                var cell = Cell(minute, SharedStripe);
                for (var i = 0; i < outcomes.Length; i++)
                {
                    targets[i].Increment(cell, outcomes[i]);
                }
            }
        }
    }

    private readonly struct Target(long[] counts, int outcomes)
    {
        public void Increment(int cell, int outcome) => Interlocked.Increment(ref counts[cell * outcomes + outcome]);

        // Only under the cell's stripe lock.
        public void AddLocked(int cell, int outcome) => counts[cell * outcomes + outcome]++;
    }

    // Called by one harvester thread, at least every few seconds. Adds what was counted since the
    // last call to sink(minute, outcome, delta), and readies the slot of the next minute, whose
    // previous occupant (three minutes ago) nobody writes any more.
    public void Harvest(long currentMinute, Action<long, int, long> sink)
    {
        for (var slot = 0; slot < Slots; slot++)
        {
            HarvestSlot(slot, sink);
        }

        foreach (var minute in (ReadOnlySpan<long>)[currentMinute, currentMinute + 1])
        {
            var slot = (int)(minute & (Slots - 1));
            if (_slotMinute[slot] != minute)
            {
                HarvestSlot(slot, sink);
                for (var stripe = 0; stripe < Stripes; stripe++)
                {
                    for (var outcome = 0; outcome < _outcomes; outcome++)
                    {
                        Interlocked.Exchange(ref _counts[((slot * Stripes) + stripe) * _outcomes + outcome], 0);
                    }
                }
                Array.Clear(_harvested, slot * _outcomes, _outcomes);
                _slotMinute[slot] = minute;
            }
        }
    }

    private void HarvestSlot(int slot, Action<long, int, long> sink)
    {
        var minute = _slotMinute[slot];
        for (var outcome = 0; outcome < _outcomes; outcome++)
        {
            long total = 0;
            for (var stripe = 0; stripe < Stripes; stripe++)
            {
                total += Interlocked.Read(ref _counts[((slot * Stripes) + stripe) * _outcomes + outcome]);
            }
            var delta = total - _harvested[slot * _outcomes + outcome];
            if (delta > 0 && minute >= 0)
            {
                sink(minute, outcome, delta);
                _harvested[slot * _outcomes + outcome] = total;
            }
        }
    }
}
