using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Observability;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace FlagService.Features.Analytics;

// Drains EvaluationRecorder into PostgreSQL every FlushIntervalMilliseconds, one round trip per
// batch, with additive upserts so that several instances can write the same rows. While the
// database is unreachable, data waits in memory up to the configured bounds; beyond them it is
// dropped and counted (and logged). A graceful shutdown flushes what is pending.
public sealed partial class AnalyticsFlusher(
    NpgsqlDataSource db, EvaluationRecorder recorder, IOptions<AnalyticsOptions> options, TimeProvider time,
    ILogger<AnalyticsFlusher> logger, FlagServiceMetrics metrics) : BackgroundService
{
    private const int BatchSize = 5000;

    // A latest-answers statement carries at most this many flag answers (about 100 bytes each), so
    // that projects with many flags write small statements instead of one that outlasts its timeout.
    private const int MaxAnswersPerStatement = 20_000;

    // A statement that fails (a timeout, a lock, a bad row) is retried at later flushes with its
    // rows in batches half as large each time; rows that failed this many times are dropped and
    // counted, so nothing is retried for ever and a load that ends leaves the database idle.
    public const int MaxAttempts = 3;

    // New or changed answers are written at the next flush. Unchanged ones only get their time
    // refreshed, once a minute and at most this many per flush, so that a large steady population
    // costs the database a trickle of rows instead of a burst every flush.
    private const int MaxRefreshesPerFlush = 250;

    // Entries idle this long, and written, leave memory.
    private static readonly long IdleTicks = TimeSpan.FromMinutes(2).Ticks;
    private readonly AnalyticsOptions _options = options.Value;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<(Guid Environment, Guid Flag, long Minute, EvaluationReason Reason, string Variant), long> _pendingCounts = [];
    private readonly Dictionary<(Guid Environment, string Identifier), Dictionary<Guid, LatestAnswer>> _pendingLatest = [];
    private readonly Dictionary<object, int> _attempts = [];
    private readonly Batching _countsBatching = new();
    private readonly Batching _latestBatching = new();
    private long _droppedCounts;
    private long _droppedAnswers;
    private long _reportedDrops;

    // Evaluations not counted and latest answers not recorded, since start (logged, and in /metrics).
    public long DroppedCounts => Interlocked.Read(ref _droppedCounts);
    public long DroppedAnswers => Interlocked.Read(ref _droppedAnswers);

    // Rows waiting for the next flush (read between flushes, as the tests do).
    public int PendingRows => _pendingCounts.Count + _pendingLatest.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.FlushIntervalMilliseconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync();
    }

    public async Task FlushAsync()
    {
        await _gate.WaitAsync();
        var started = Stopwatch.GetTimestamp();
        var succeeded = false;
        try
        {
            Harvest();
            await WriteCountsAsync();
            await WriteLatestAsync();
            ReportDrops();
            await PruneDeletedFlagsAsync();
            succeeded = true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            LogWriteFailed(logger, e.Message, _pendingCounts.Count, _pendingLatest.Count);
        }
        finally
        {
            metrics.FlushCompleted(Stopwatch.GetElapsedTime(started), succeeded, _pendingCounts.Count + _pendingLatest.Count,
                _droppedCounts + _droppedAnswers + recorder.DroppedIdentifiers);
            _gate.Release();
        }
    }

    private void Harvest()
    {
        var minute = EvaluationRecorder.MinuteOf(time.GetUtcNow());
        foreach (var counters in recorder.AllCounters)
        {
            counters.Harvest(minute, (m, outcome, delta) =>
            {
                var (reason, variant) = (Outcome.Reason(outcome), counters.Variants[Outcome.Variant(outcome)]);
                metrics.Evaluated(reason.ToWire(), variant, delta);
                var key = (counters.EnvironmentId, counters.FlagId, m, reason, variant);
                if (_pendingCounts.TryGetValue(key, out var count))
                {
                    _pendingCounts[key] = count + delta;
                }
                else if (_pendingCounts.Count < _options.MaxPendingCounterRows)
                {
                    _pendingCounts[key] = delta;
                }
                else
                {
                    _droppedCounts += delta;
                }
            });
        }

        var refreshes = 0;
        var nowTicks = time.GetUtcNow().UtcTicks;
        foreach (var (key, entry) in recorder.Latest)
        {
            var at = entry.AtTicks;
            if (at == entry.HandedOverTicks)
            {
                if (nowTicks - at > IdleTicks)
                {
                    recorder.Evict(key, entry, at);
                }
                continue;
            }
            var changed = entry.HandedOverTicks == 0;
            if (!changed && (entry.WrittenMinute >= minute || ++refreshes > MaxRefreshesPerFlush))
            {
                continue; // looked at again next flush
            }

            var rowKey = (entry.Snapshot.EnvironmentId, key.Identifier);
            if (!_pendingLatest.TryGetValue(rowKey, out var flags))
            {
                if (_pendingLatest.Count >= _options.MaxPendingIdentifiers)
                {
                    continue; // the database is away and memory is full: this refresh waits
                }
                _pendingLatest[rowKey] = flags = [];
            }
            entry.HandedOverTicks = at;
            entry.WrittenMinute = minute;
            var when = new DateTime(at, DateTimeKind.Utc);
            for (var i = 0; i < entry.Outcomes.Length; i++)
            {
                var index = entry.FlagIndex < 0 ? i : entry.FlagIndex;
                var flagId = entry.Snapshot.FlagIds[index];
                if (!flags.TryGetValue(flagId, out var known) || known.At <= when)
                {
                    var flag = entry.Snapshot.Flags[index];
                    var (reason, variant) = (Outcome.Reason(entry.Outcomes[i]), Outcome.Variant(entry.Outcomes[i]));
                    flags[flagId] = new LatestAnswer(reason, flag.Variants[variant], flag.IsEnabled(variant, reason), when);
                }
            }
        }
    }

    // Counts of flags or environments deleted meanwhile are dropped by the joins instead of failing the batch.
    private const string CountsSql = """
        INSERT INTO flag_evaluation_counts (environment_id, flag_id, minute, reason, variant, count)
        SELECT u.environment_id, u.flag_id, u.minute, u.reason, u.variant, u.count
          FROM unnest(@environment_ids, @flag_ids, @minutes, @reasons, @variants, @counts)
               AS u(environment_id, flag_id, minute, reason, variant, count)
          JOIN feature_flags f ON f.id = u.flag_id
          JOIN environments e ON e.id = u.environment_id
        ON CONFLICT (flag_id, environment_id, minute, reason, variant)
        DO UPDATE SET count = flag_evaluation_counts.count + EXCLUDED.count
        """;

    private async Task WriteCountsAsync()
    {
        while (_pendingCounts.Count > 0)
        {
            var batch = _pendingCounts.Take(_countsBatching.Size).ToArray();
            await using var command = db.CreateCommand(CountsSql);
            command.CommandTimeout = _options.CommandTimeoutSeconds;
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("environment_ids", batch.Select(b => b.Key.Environment).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("flag_ids", batch.Select(b => b.Key.Flag).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<DateTime[]>("minutes",
                batch.Select(b => new DateTime(b.Key.Minute * TimeSpan.TicksPerMinute, DateTimeKind.Utc)).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<string[]>("reasons", batch.Select(b => b.Key.Reason.ToWire()).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<string[]>("variants", batch.Select(b => b.Key.Variant).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<long[]>("counts", batch.Select(b => b.Value).ToArray()));
            if (!await ExecuteAsync(command, batch.Select(b => (object)b.Key), _countsBatching))
            {
                foreach (var (key, count) in batch.Where(b => Exhausted(b.Key)))
                {
                    _pendingCounts.Remove(key);
                    _droppedCounts += count;
                }
                return;
            }
            foreach (var (key, _) in batch)
            {
                _pendingCounts.Remove(key);
            }
        }
    }

    // `||` replaces the flags present in the new object and keeps the others. One instance's flushes
    // are in time order; between instances the later flush wins, within a flush interval.
    private const string LatestSql = """
        INSERT INTO evaluation_latest (environment_id, identifier, results)
        SELECT u.environment_id, u.identifier, u.results
          FROM unnest(@environment_ids, @identifiers, @results) AS u(environment_id, identifier, results)
          JOIN environments e ON e.id = u.environment_id
        ON CONFLICT (environment_id, identifier)
        DO UPDATE SET results = evaluation_latest.results || EXCLUDED.results, updated_at = now()
        """;

    private async Task WriteLatestAsync()
    {
        while (_pendingLatest.Count > 0)
        {
            var answers = 0;
            var batch = _pendingLatest.TakeWhile((b, i) => i < _latestBatching.Size && (answers += b.Value.Count) - b.Value.Count < MaxAnswersPerStatement).ToArray();
            await using var command = db.CreateCommand(LatestSql);
            command.CommandTimeout = _options.CommandTimeoutSeconds;
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("environment_ids", batch.Select(b => b.Key.Environment).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<string[]>("identifiers", batch.Select(b => b.Key.Identifier).ToArray()));
            command.Parameters.Add(new NpgsqlParameter("results", NpgsqlDbType.Array | NpgsqlDbType.Jsonb)
            {
                Value = batch.Select(b => ResultsJson(b.Value)).ToArray(),
            });
            if (!await ExecuteAsync(command, batch.Select(b => (object)b.Key), _latestBatching))
            {
                foreach (var (key, flags) in batch.Where(b => Exhausted(b.Key)))
                {
                    _pendingLatest.Remove(key);
                    _droppedAnswers += flags.Count;
                }
                return;
            }
            foreach (var (key, _) in batch)
            {
                _pendingLatest.Remove(key);
            }
        }
    }

    // True when the statement ran. A statement the database refused or did not finish in time
    // counts an attempt against each of its rows and halves the batch size for the next flush;
    // the rest waits for that flush (one failed statement per flush, then back off). Losing the
    // database altogether throws, and everything stays pending within the memory bounds.
    private async Task<bool> ExecuteAsync(NpgsqlCommand command, IEnumerable<object> rows, Batching batching)
    {
        var size = batching.Size;
        try
        {
            await command.ExecuteNonQueryAsync();
            batching.Size = Math.Min(BatchSize, size * 2);
            foreach (var row in rows)
            {
                _attempts.Remove(row);
            }
            return true;
        }
        catch (Exception e) when (IsStatementFailure(e))
        {
            LogStatementFailed(logger, e.Message, size, MaxAttempts);
            batching.Size = Math.Max(1, size / 2);
            foreach (var row in rows)
            {
                _attempts[row] = _attempts.GetValueOrDefault(row) + 1;
            }
            return false;
        }
    }

    private sealed class Batching
    {
        public int Size { get; set; } = BatchSize;
    }

    private bool Exhausted(object row)
    {
        if (_attempts.GetValueOrDefault(row) < MaxAttempts)
        {
            return false;
        }
        _attempts.Remove(row);
        return true;
    }

    // The statement itself failed (it timed out, waited on a lock, or the data was refused), as
    // opposed to the database being gone or refusing connections, when everything waits instead.
    private static bool IsStatementFailure(Exception e) => e switch
    {
        PostgresException p => p.SqlState is PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.LockNotAvailable
            || p.SqlState[..2] is "22" or "23" or "40" or "42" or "54",
        NpgsqlException { InnerException: TimeoutException } => true,
        TimeoutException => true,
        _ => false,
    };

    // {"<flag id>": {"result": true, "reason": "rollout", "variant": "on", "at": "2026-01-31T10:00:00.123456Z"}}
    internal static string ResultsJson(Dictionary<Guid, LatestAnswer> flags)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (flagId, (reason, variant, result, at)) in flags)
            {
                json.WriteStartObject(flagId.ToString());
                json.WriteBoolean("result", result);
                json.WriteString("reason", reason.ToWire());
                json.WriteString("variant", variant);
                json.WriteString("at", at.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    // Counters of deleted flags and environments would otherwise stay in memory until restart.
    // Every few flushes the ids still counted are checked against the database and the deleted
    // ones forgotten: ids never come back, and whatever a stale snapshot still counts for them the
    // joins above drop.
    private const int PruneEveryFlushes = 30;
    private int _flushesSincePrune;

    private const string DeletedFlagsSql = """
        SELECT u.id FROM unnest(@ids) AS u(id)
         WHERE NOT EXISTS (SELECT 1 FROM feature_flags f WHERE f.id = u.id)
           AND NOT EXISTS (SELECT 1 FROM environments e WHERE e.id = u.id)
        """;

    private async Task PruneDeletedFlagsAsync()
    {
        if (++_flushesSincePrune < PruneEveryFlushes)
        {
            return;
        }
        _flushesSincePrune = 0;
        var ids = recorder.AllCounters.SelectMany(c => new[] { c.FlagId, c.EnvironmentId }).Distinct().ToArray();
        await using var command = db.CreateCommand(DeletedFlagsSql);
        command.CommandTimeout = 10;
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", ids));
        var deleted = new HashSet<Guid>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                deleted.Add(reader.GetGuid(0));
            }
        }
        recorder.Forget(c => deleted.Contains(c.FlagId) || deleted.Contains(c.EnvironmentId));
    }

    private void ReportDrops()
    {
        var drops = _droppedCounts + _droppedAnswers + recorder.DroppedIdentifiers;
        if (drops != _reportedDrops)
        {
            LogDropped(logger, _droppedCounts, _droppedAnswers + recorder.DroppedIdentifiers);
            _reportedDrops = drops;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Analytics statement failed ({Reason}) for a batch of {Rows} rows; its rows are retried in smaller batches and dropped after {MaxAttempts} failures")]
    private static partial void LogStatementFailed(ILogger logger, string reason, int rows, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Analytics write failed ({Reason}); keeping {CounterRows} counter rows and {Identifiers} identifiers in memory")]
    private static partial void LogWriteFailed(ILogger logger, string reason, int counterRows, int identifiers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Analytics data dropped (memory bounds reached, or statements that kept failing): {DroppedCounts} evaluations not counted, {DroppedIdentifiers} latest results not recorded so far")]
    private static partial void LogDropped(ILogger logger, long droppedCounts, long droppedIdentifiers);
}

// What one identifier was last served by one flag.
internal readonly record struct LatestAnswer(EvaluationReason Reason, string Variant, bool Result, DateTime At);
