using FlagService.Features.Evaluation;

namespace FlagService.Features.Analytics;

// Evaluation counts of one flag, by minute and outcome (reason x result), written by many request
// threads at once without contention: each processor increments its own cache line. A ring of four
// minute slots lets the harvester read finished minutes while the current one is being written.
public sealed class FlagCounters
{
    public const int Outcomes = 8; // 4 reasons x {false, true}
    public const int Slots = 4;
    private static readonly int Stripes = Math.Max(1, Environment.ProcessorCount);

    // [slot][stripe][outcome]: 8 longs, one 64-byte cache line, per slot and stripe.
    private readonly long[] _counts = new long[Slots * Stripes * Outcomes];

    // Harvester-only state: which minute each slot holds, and what of it has been harvested.
    private readonly long[] _slotMinute = [-1, -1, -1, -1];
    private readonly long[] _harvested = new long[Slots * Outcomes];

    public FlagCounters(Guid flagId, long currentMinute)
    {
        FlagId = flagId;
        _slotMinute[currentMinute & (Slots - 1)] = currentMinute;
        _slotMinute[(currentMinute + 1) & (Slots - 1)] = currentMinute + 1;
    }

    public Guid FlagId { get; }

    public static int Outcome(EvaluationResult result) => ((int)result.Reason << 1) | (result.Value ? 1 : 0);

    public static (bool Result, EvaluationReason Reason) Decode(int outcome) => ((outcome & 1) == 1, (EvaluationReason)(outcome >> 1));

    public void Increment(long minute, int outcome)
    {
        var stripe = Thread.GetCurrentProcessorId() % Stripes;
        Interlocked.Increment(ref _counts[(((int)(minute & (Slots - 1)) * Stripes) + stripe) * Outcomes + outcome]);
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
                    for (var outcome = 0; outcome < Outcomes; outcome++)
                    {
                        Interlocked.Exchange(ref _counts[((slot * Stripes) + stripe) * Outcomes + outcome], 0);
                    }
                }
                Array.Clear(_harvested, slot * Outcomes, Outcomes);
                _slotMinute[slot] = minute;
            }
        }
    }

    private void HarvestSlot(int slot, Action<long, int, long> sink)
    {
        var minute = _slotMinute[slot];
        for (var outcome = 0; outcome < Outcomes; outcome++)
        {
            long total = 0;
            for (var stripe = 0; stripe < Stripes; stripe++)
            {
                total += Interlocked.Read(ref _counts[((slot * Stripes) + stripe) * Outcomes + outcome]);
            }
            var delta = total - _harvested[slot * Outcomes + outcome];
            if (delta > 0 && minute >= 0)
            {
                sink(minute, outcome, delta);
                _harvested[slot * Outcomes + outcome] = total;
            }
        }
    }
}
