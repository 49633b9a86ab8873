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
    private readonly ConcurrentDictionary<LatestKey, LatestEntry> _latest = new();
    private int _latestCount;
    private long _droppedIdentifiers;

    public long DroppedIdentifiers => Interlocked.Read(ref _droppedIdentifiers);

    public ICollection<FlagCounters> AllCounters => _counters.Values;

    // Counters outlive snapshots: a rebuilt snapshot keeps counting into the same object.
    public FlagCounters CountersFor(Guid flagId) => _counters.GetOrAdd(flagId, static (id, now) => new FlagCounters(id, MinuteOf(now)), time.GetUtcNow());

    // A deleted flag's counters (see AnalyticsFlusher.PruneDeletedFlagsAsync).
    public void Forget(Guid flagId) => _counters.TryRemove(flagId, out _);

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

        // Latest answers live in one long-lived entry per (project or flag, identifier). A repeat of
        // the same answers only moves the entry's time: a steady stream of users allocates nothing
        // and leaves no garbage for the collector (the flusher reads entries in place).
        var key = new LatestKey(flagIndex < 0 ? snapshot.ProjectId : snapshot.FlagIds[flagIndex], identifier);
        var found = _latest.TryGetValue(key, out var existing);
        if (found && existing!.Snapshot == snapshot && existing.FlagIndex == flagIndex && outcomes.SequenceEqual(existing.Outcomes))
        {
            existing.Touch(now.UtcTicks);
            if (!existing.Evicted)
            {
                return;
            }
            found = false; // the flusher evicted it just now: start a fresh entry
        }

        var entry = new LatestEntry(snapshot, flagIndex, outcomes.ToArray(), now.UtcTicks);
        if (found)
        {
            _latest[key] = entry;
        }
        else if (Volatile.Read(ref _latestCount) >= _maxIdentifiers)
        {
            Interlocked.Increment(ref _droppedIdentifiers);
        }
        else if (_latest.TryAdd(key, entry))
        {
            Interlocked.Increment(ref _latestCount);
        }
        else
        {
            _latest[key] = entry;
        }
    }

    // Read in place by the flusher, which also evicts idle entries.
    public IEnumerable<KeyValuePair<LatestKey, LatestEntry>> Latest => _latest;

    // Removes an entry that was idle when the flusher looked, unless a request touched it meanwhile.
    public void Evict(LatestKey key, LatestEntry entry, long idleSince)
    {
        entry.Evicted = true;
        if (entry.AtTicks != idleSince)
        {
            entry.Evicted = false;
            return;
        }
        if (_latest.TryRemove(new KeyValuePair<LatestKey, LatestEntry>(key, entry)))
        {
            Interlocked.Decrement(ref _latestCount);
        }
    }
}

public readonly record struct LatestKey(Guid ScopeId, string Identifier);

// One identifier's latest answers for a project (FlagIndex -1) or a flag. Requests move AtTicks;
// HandedOverTicks and WrittenMinute belong to the flusher.
public sealed class LatestEntry(ProjectSnapshot snapshot, int flagIndex, byte[] outcomes, long atTicks)
{
    private long _atTicks = atTicks;
    private volatile bool _evicted;

    public ProjectSnapshot Snapshot { get; } = snapshot;
    public int FlagIndex { get; } = flagIndex;
    public byte[] Outcomes { get; } = outcomes;
    public long AtTicks => Interlocked.Read(ref _atTicks);
    public bool Evicted { get => _evicted; set => _evicted = value; }

    // The AtTicks last handed to the database writer (0: these answers were never written).
    public long HandedOverTicks { get; set; }
    public long WrittenMinute { get; set; } = -1;

    public void Touch(long atTicks) => Interlocked.Exchange(ref _atTicks, atTicks);
}
