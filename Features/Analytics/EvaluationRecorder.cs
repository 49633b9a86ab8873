using System.Collections.Concurrent;
using FlagService.Features.Evaluation;
using Microsoft.Extensions.Options;

namespace FlagService.Features.Analytics;

// The request side of analytics: a few interlocked increments and one dictionary write per request.
// Nothing here waits on the database; AnalyticsFlusher drains it in the background.
public sealed class EvaluationRecorder(IOptions<AnalyticsOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<Guid, FlagCounters> _counters = new();
    private readonly int _maxIdentifiers = options.Value.MaxPendingIdentifiers;
    private ConcurrentDictionary<LatestKey, LatestEntry> _latest = new();
    private int _latestCount;
    private long _droppedIdentifiers;

    public long DroppedIdentifiers => Interlocked.Read(ref _droppedIdentifiers);

    public ICollection<FlagCounters> AllCounters => _counters.Values;

    // Counters outlive snapshots: a rebuilt snapshot keeps counting into the same object.
    public FlagCounters CountersFor(Guid flagId) => _counters.GetOrAdd(flagId, static (id, now) => new FlagCounters(id, MinuteOf(now)), time.GetUtcNow());

    public static long MinuteOf(DateTimeOffset instant) => instant.UtcTicks / TimeSpan.TicksPerMinute;

    // One evaluate call: the outcome of every flag (flagIndex = -1) or of one flag.
    public void Record(ProjectSnapshot snapshot, ReadOnlySpan<byte> outcomes, int flagIndex, string? identifier)
    {
        var now = time.GetUtcNow();
        var minute = MinuteOf(now);
        if (flagIndex < 0)
        {
            for (var i = 0; i < outcomes.Length; i++)
            {
                snapshot.Counters[i].Increment(minute, outcomes[i]);
            }
        }
        else
        {
            snapshot.Counters[flagIndex].Increment(minute, outcomes[0]);
        }

        if (string.IsNullOrEmpty(identifier))
        {
            return;
        }

        // Latest answers are kept per (project or flag, identifier). A repeat of the same answers
        // only moves the time, so a steady stream of users allocates nothing here.
        var key = new LatestKey(flagIndex < 0 ? snapshot.ProjectId : snapshot.FlagIds[flagIndex], identifier);
        var latest = Volatile.Read(ref _latest);
        if (latest.TryGetValue(key, out var existing) && existing.Snapshot == snapshot && existing.FlagIndex == flagIndex
            && outcomes.SequenceEqual(existing.Outcomes))
        {
            existing.Touch(now.UtcTicks);
            return;
        }

        var entry = new LatestEntry(snapshot, flagIndex, outcomes.ToArray(), now.UtcTicks);
        if (latest.TryAdd(key, entry))
        {
            if (Interlocked.Increment(ref _latestCount) > _maxIdentifiers)
            {
                latest.TryRemove(key, out _);
                Interlocked.Increment(ref _droppedIdentifiers);
            }
        }
        else
        {
            latest[key] = entry;
        }
    }

    // Hands the latest answers gathered so far to the flusher and starts a new set.
    public ConcurrentDictionary<LatestKey, LatestEntry> TakeLatest()
    {
        var taken = Interlocked.Exchange(ref _latest, new ConcurrentDictionary<LatestKey, LatestEntry>());
        Interlocked.Exchange(ref _latestCount, 0);
        return taken;
    }

    public void CountDroppedIdentifiers(long count) => Interlocked.Add(ref _droppedIdentifiers, count);
}

public readonly record struct LatestKey(Guid ScopeId, string Identifier);

public sealed class LatestEntry(ProjectSnapshot snapshot, int flagIndex, byte[] outcomes, long atTicks)
{
    private long _atTicks = atTicks;

    public ProjectSnapshot Snapshot { get; } = snapshot;
    public int FlagIndex { get; } = flagIndex;
    public byte[] Outcomes { get; } = outcomes;
    public DateTime At => new(Interlocked.Read(ref _atTicks), DateTimeKind.Utc);

    public void Touch(long atTicks) => Interlocked.Exchange(ref _atTicks, atTicks);
}
