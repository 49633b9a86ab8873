using System.ComponentModel.DataAnnotations;

namespace FlagService.Features.Analytics;

public sealed class AnalyticsOptions
{
    public const string SectionName = "Analytics";

    // How often pending counts and latest results are written, in one round trip per batch.
    [Range(50, 10_000)]
    public int FlushIntervalMilliseconds { get; set; } = 2000;

    // Memory bounds while the database is unreachable: beyond them new data is dropped and counted.
    [Range(1_000, 10_000_000)]
    public int MaxPendingCounterRows { get; set; } = 200_000;

    [Range(1_000, 10_000_000)]
    public int MaxPendingIdentifiers { get; set; } = 200_000;

    // The evaluation contexts kept for "what did user X get" (each identifier's latest), in bytes.
    [Range(1L << 20, 16L << 30)]
    public long MaxPendingContextBytes { get; set; } = 64L << 20;

    // How long one analytics statement may run before it counts as failed (and is retried in
    // smaller batches, up to AnalyticsFlusher.MaxAttempts times per row).
    [Range(1, 300)]
    public int CommandTimeoutSeconds { get; set; } = 10;
}
