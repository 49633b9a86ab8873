using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlagService.Features.Analytics;

public sealed class RetentionOptions
{
    public const string SectionName = "Analytics:Retention";

    // Per-minute counts older than this are rolled up into hourly rows, hourly ones older than
    // DailyAfterDays into daily rows, so the counts table stays bounded for a service that runs for years.
    [Range(1, 3650)]
    public int HourlyAfterDays { get; set; } = 7;

    [Range(1, 36500)]
    public int DailyAfterDays { get; set; } = 90;

    [Range(1, 1440)]
    public int EveryMinutes { get; set; } = 15;
}

// Rolls old per-minute evaluation counts up, and prunes unused configuration versions, in the background. A rolled-up row is stored at the
// start of its hour (or day), so `stats` sums exactly the same totals across the boundary (buckets
// finer than the rollup then show the hour's count in its first minute). Each statement moves rows
// atomically (DELETE ... RETURNING feeding an additive upsert), so concurrent instances or a crash
// never count a row twice or lose one; an advisory lock keeps two instances from doing the work twice.
public sealed partial class CountsRetention(NpgsqlDataSource db, IOptions<RetentionOptions> options, ILogger<CountsRetention> logger)
    : BackgroundService
{
    private const long AdvisoryLockKey = 0x466C_6167_5265_7431; // "FlagRet1"

    private const string RollUpSql = """
        WITH moved AS (
            DELETE FROM flag_evaluation_counts
             WHERE minute < now() - make_interval(days => @AfterDays)
               AND minute <> date_trunc(@Unit, minute, 'UTC')
            RETURNING environment_id, flag_id, minute, reason, variant, count)
        INSERT INTO flag_evaluation_counts (environment_id, flag_id, minute, reason, variant, count)
        SELECT environment_id, flag_id, date_trunc(@Unit, minute, 'UTC'), reason, variant, sum(count)::bigint
          FROM moved
         GROUP BY environment_id, flag_id, date_trunc(@Unit, minute, 'UTC'), reason, variant
        ON CONFLICT (flag_id, environment_id, minute, reason, variant)
        DO UPDATE SET count = flag_evaluation_counts.count + EXCLUDED.count
        """;

    // Configuration versions that no identifier's latest evaluation refers to any more. Young ones
    // stay: an instance may be about to write the contexts that refer to it (and if one is pruned
    // under it anyway, the foreign key refuses those rows and the flusher writes the version again).
    private const string PruneVersionsSql = """
        DELETE FROM configuration_versions v
         WHERE v.created_at < now() - interval '1 hour'
           AND NOT EXISTS (SELECT 1 FROM evaluation_contexts c WHERE c.environment_id = v.environment_id AND c.version = v.version)
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Value.EveryMinutes));
        do
        {
            try
            {
                await RollUpAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                LogFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    // Returns how many rolled-up rows were written (0 when another instance holds the lock).
    public async Task<long> RollUpAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using (var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection))
        {
            take.Parameters.AddWithValue("key", AdvisoryLockKey);
            if (await take.ExecuteScalarAsync(ct) is not true)
            {
                return 0;
            }
        }
        try
        {
            var moved = 0L;
            foreach (var (unit, days) in new[] { ("hour", options.Value.HourlyAfterDays), ("day", options.Value.DailyAfterDays) })
            {
                await using var command = new NpgsqlCommand(RollUpSql, connection) { CommandTimeout = 300 };
                command.Parameters.AddWithValue("AfterDays", days);
                command.Parameters.AddWithValue("Unit", unit);
                moved += await command.ExecuteNonQueryAsync(ct);
            }
            await using (var prune = new NpgsqlCommand(PruneVersionsSql, connection) { CommandTimeout = 300 })
            {
                await prune.ExecuteNonQueryAsync(ct);
            }
            return moved;
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            release.Parameters.AddWithValue("key", AdvisoryLockKey);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rolling up old evaluation counts failed ({Reason}); trying again later")]
    private static partial void LogFailed(ILogger logger, string reason);
}
