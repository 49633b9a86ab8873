using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using FlagService.Features.Evaluation;
using Microsoft.Extensions.Options;

namespace FlagService.Features.Analytics;

// The request side of analytics: one increment per flag (FlagCounters) and one dictionary write per request.
// Nothing here waits on the database; AnalyticsFlusher drains it in the background. Snapshots know
// nothing of analytics: the counters of a snapshot's flags are found here, once per request.
public sealed class EvaluationRecorder
{
    private readonly ConcurrentDictionary<(Guid Environment, Guid Flag, string Variants), FlagCounters> _counters = new();
    private readonly ConditionalWeakTable<EnvironmentSnapshot, FlagCounters.Group> _bySnapshot = new();
    private readonly ConditionalWeakTable<EnvironmentSnapshot, FlagCounters.Group>.CreateValueCallback _build;
    private readonly ConcurrentDictionary<LatestKey, LatestEntry> _latest = new();
    private readonly int _maxIdentifiers;
    private readonly long _maxContextBytes;
    private readonly TimeProvider _time;
    private int _latestCount;
    private long _latestBytes;
    private long _droppedIdentifiers;

    public EvaluationRecorder(IOptions<AnalyticsOptions> options, TimeProvider time)
    {
        _maxIdentifiers = options.Value.MaxPendingIdentifiers;
        _maxContextBytes = options.Value.MaxPendingContextBytes;
        _time = time;
        _build = Build;
    }

    public long DroppedIdentifiers => Interlocked.Read(ref _droppedIdentifiers);

    public ICollection<FlagCounters> AllCounters => _counters.Values;

    // Counters of deleted flags or environments (see AnalyticsFlusher.PruneDeletedFlagsAsync).
    public void Forget(Func<FlagCounters, bool> deleted)
    {
        foreach (var (key, counters) in _counters)
        {
            if (deleted(counters))
            {
                _counters.TryRemove(key, out _);
            }
        }
    }

    public static long MinuteOf(DateTimeOffset instant) => instant.UtcTicks / TimeSpan.TicksPerMinute;

    // Counters outlive snapshots: a rebuilt snapshot of the same environment keeps counting into
    // the same objects (a flag whose variants changed gets new ones, since outcomes index variants).
    public IReadOnlyList<FlagCounters> CountersFor(EnvironmentSnapshot snapshot) => Of(snapshot).Flags;

    private FlagCounters.Group Of(EnvironmentSnapshot snapshot) =>
        _bySnapshot.TryGetValue(snapshot, out var counters) ? counters : _bySnapshot.GetValue(snapshot, _build);

    private FlagCounters.Group Build(EnvironmentSnapshot snapshot)
    {
        var minute = MinuteOf(_time.GetUtcNow());
        return new FlagCounters.Group(Array.ConvertAll(snapshot.Flags, flag => _counters.GetOrAdd(
            (snapshot.EnvironmentId, flag.Id, string.Join('\n', flag.Variants)),
            static (key, state) => new FlagCounters(key.Environment, key.Flag, state.Variants, state.Minute),
            (flag.Variants, Minute: minute))));
    }

    // Every flag of the snapshot was served: outcomes[i] is what flag i served (/sdk/v1/evaluate,
    // OFREP's bulk answer).
    public void Record(EnvironmentSnapshot snapshot, ReadOnlySpan<ushort> outcomes, in EvaluationContext context, string? identifier)
    {
        var now = _time.GetUtcNow();
        Of(snapshot).Add(MinuteOf(now), outcomes);
        Remember(snapshot, Guid.Empty, in context, identifier, now);
    }

    // One flag of the snapshot was served (OFREP's single flag, or one of a bulk answer that could
    // not serve them all).
    public void RecordFlag(EnvironmentSnapshot snapshot, int flag, ushort outcome, in EvaluationContext context, string? identifier)
    {
        var now = _time.GetUtcNow();
        Of(snapshot).Flags[flag].Add(MinuteOf(now), outcome);
        Remember(snapshot, snapshot.FlagIds[flag], in context, identifier, now);
    }

    // The identifier's latest context against this snapshot, for all flags (flagId Guid.Empty) or one.
    private void Remember(EnvironmentSnapshot snapshot, Guid flagId, in EvaluationContext context, string? identifier, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(identifier))
        {
            return;
        }

        // The latest evaluation lives in one long-lived entry per (environment or flag, identifier):
        // the context and the snapshot it met, which together give every answer served (the read
        // API evaluates them again), whatever the number of flags. A repeat of the same context
        // against the same snapshot only moves the entry's time: a steady stream of users
        // allocates nothing and leaves no garbage for the collector (the flusher reads entries in place).
        var key = new LatestKey(snapshot.EnvironmentId, flagId, identifier);
        var found = _latest.TryGetValue(key, out var existing);
        if (found && existing!.Snapshot == snapshot && existing.Context.Matches(in context))
        {
            existing.Touch(now.UtcTicks);
            if (!existing.Evicted)
            {
                return;
            }
            found = false; // the flusher evicted it just now: start a fresh entry
        }

        var entry = new LatestEntry(snapshot, RecordedContext.Of(in context), now.UtcTicks);
        if (found)
        {
            Replace(key, entry);
        }
        else if (Volatile.Read(ref _latestCount) >= _maxIdentifiers || Interlocked.Read(ref _latestBytes) >= _maxContextBytes)
        {
            Interlocked.Increment(ref _droppedIdentifiers);
        }
        else
        {
            Replace(key, entry);
        }
    }

    // Requests of one identifier may race (and the flusher evicts): the count and the bytes follow
    // whichever entry lands.
    private void Replace(LatestKey key, LatestEntry entry)
    {
        while (true)
        {
            if (_latest.TryGetValue(key, out var old))
            {
                if (_latest.TryUpdate(key, entry, old))
                {
                    Interlocked.Add(ref _latestBytes, entry.Context.Size - old.Context.Size);
                    return;
                }
            }
            else if (_latest.TryAdd(key, entry))
            {
                Interlocked.Increment(ref _latestCount);
                Interlocked.Add(ref _latestBytes, entry.Context.Size);
                return;
            }
        }
    }

    // Evaluations an in-process client made and reported afterwards: counted into the same
    // counters as the service's own, so statistics do not depend on where a flag was evaluated.
    public void RecordCount(EnvironmentSnapshot snapshot, int flag, ushort outcome, long count) =>
        Of(snapshot).Flags[flag].Add(MinuteOf(_time.GetUtcNow()), outcome, count);

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
            Interlocked.Add(ref _latestBytes, -entry.Context.Size);
        }
    }
}

// FlagId is Guid.Empty for an entry holding all flags of the environment.
public readonly record struct LatestKey(Guid EnvironmentId, Guid FlagId, string Identifier);

// One identifier's latest evaluation in an environment, of all flags or of one (the key says).
// Requests move AtTicks; HandedOverTicks and WrittenMinute belong to the flusher.
public sealed class LatestEntry(EnvironmentSnapshot snapshot, RecordedContext context, long atTicks)
{
    private long _atTicks = atTicks;
    private volatile bool _evicted;

    public EnvironmentSnapshot Snapshot { get; } = snapshot;
    public RecordedContext Context { get; } = context;
    public long AtTicks => Interlocked.Read(ref _atTicks);
    public bool Evicted { get => _evicted; set => _evicted = value; }

    // The AtTicks last handed to the database writer (0: these answers were never written).
    public long HandedOverTicks { get; set; }
    public long WrittenMinute { get; set; } = -1;

    public void Touch(long atTicks) => Interlocked.Exchange(ref _atTicks, atTicks);
}
