using System.Diagnostics.Metrics;

namespace FlagService.Infrastructure.Observability;

// FlagService's own instruments, exported at /metrics with ASP.NET Core's. Every method is called off
// the request path (snapshot loads, notifications, the analytics flusher), so counting costs the
// SDK hot path nothing. Labels take only bounded values: reasons and outcomes, never a key, a user
// or a project.
public sealed class FlagServiceMetrics : IDisposable
{
    public const string MeterName = "FlagService";

    private readonly Meter _meter;
    private readonly Counter<long> _evaluations;
    private readonly Counter<long> _snapshotLoads;
    private readonly Counter<long> _configurationChanges;
    private readonly Histogram<double> _flushDuration;
    private volatile Func<int> _snapshots = static () => 0;
    private volatile Func<int> _streams = static () => 0;
    private long _pendingRows;
    private long _dropped;

    public FlagServiceMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _evaluations = _meter.CreateCounter<long>("flagservice.evaluations",
            description: "Flag evaluations served, by reason and served variant (counted by the analytics flusher, at most one flush interval late).");
        _snapshotLoads = _meter.CreateCounter<long>("flagservice.snapshot_loads",
            description: "Project snapshots loaded from the database.");
        _configurationChanges = _meter.CreateCounter<long>("flagservice.configuration_changes",
            description: "Configuration change notifications received from PostgreSQL.");
        _flushDuration = _meter.CreateHistogram<double>("flagservice.analytics.flush_duration", unit: "s",
            description: "Duration of one analytics flush, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _meter.CreateObservableGauge("flagservice.snapshots", () => _snapshots(),
            description: "Project snapshots held in memory.");
        _meter.CreateObservableGauge("flagservice.stream_connections", () => _streams(),
            description: "Server-sent event streams (/sdk/v1/stream) open on this instance.");
        _meter.CreateObservableGauge("flagservice.analytics.pending_rows", () => Interlocked.Read(ref _pendingRows),
            description: "Analytics rows (counter rows and latest results) waiting to be written after the last flush.");
        _meter.CreateObservableCounter("flagservice.analytics.dropped", () => Interlocked.Read(ref _dropped),
            description: "Evaluations not counted and latest results not recorded because the analytics memory bounds were reached.");
    }

    // Variant keys are the flags' own (a few per flag, chosen by the people who run the service),
    // never a user's identifier or a key.
    public void Evaluated(string reason, string variant, long count) =>
        _evaluations.Add(count, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("variant", variant));

    public void SnapshotLoaded() => _snapshotLoads.Add(1);

    public void ConfigurationChanged() => _configurationChanges.Add(1);

    // The store that holds the snapshots reports their number when scraped.
    public void ObserveSnapshots(Func<int> count) => _snapshots = count;

    // The stream hub reports its open connections when scraped.
    public void ObserveStreamConnections(Func<int> count) => _streams = count;

    // One flush done: its duration, what it left pending and the drops counted so far (a running total).
    public void FlushCompleted(TimeSpan elapsed, bool succeeded, long pendingRows, long droppedSoFar)
    {
        _flushDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", succeeded ? "ok" : "failed"));
        Interlocked.Exchange(ref _pendingRows, pendingRows);
        Interlocked.Exchange(ref _dropped, droppedSoFar);
    }

    public void Dispose() => _meter.Dispose();
}
