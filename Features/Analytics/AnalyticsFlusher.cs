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

    // A statement carries at most this many bytes of contexts or rulesets, so that large
    // attribute objects or configurations make several small statements, not one that outlasts its timeout.
    private const int MaxBytesPerStatement = 4 << 20;

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
    private readonly Dictionary<LatestKey, PendingContext> _pendingLatest = [];
    // Configuration versions this instance has written (or found written): their rows are sent once.
    private readonly HashSet<(Guid Environment, string Version)> _writtenVersions = [];
    private const int MaxRememberedVersions = 10_000;
    private readonly Dictionary<object, int> _attempts = [];
    private readonly Batching _countsBatching = new();
    private readonly Batching _latestBatching = new();
    private long _droppedCounts;
    private long _droppedAnswers;
    private long _pendingLatestBytes;
    private long _reportedDrops;

    // Evaluations not counted and latest evaluations (an identifier's context) not recorded, since
    // start (logged, and in /metrics).
    public long DroppedCounts => Interlocked.Read(ref _droppedCounts);
    public long DroppedAnswers => Interlocked.Read(ref _droppedAnswers);

    // Rows waiting for the next flush (read between flushes, as the tests do).
    public int PendingRows => _pendingCounts.Count + _pendingLatest.Count;

    public long PendingLatestBytes => _pendingLatestBytes;

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

            var size = entry.Context.Size;
            if (_pendingLatest.Remove(key, out var replaced))
            {
                _pendingLatestBytes -= replaced.Context.Size;
            }
            else if (_pendingLatest.Count >= _options.MaxPendingIdentifiers || _pendingLatestBytes + size > _options.MaxPendingContextBytes)
            {
                continue; // the database is away and memory is full: this one waits in the recorder
            }
            entry.HandedOverTicks = at;
            entry.WrittenMinute = minute;
            _pendingLatest[key] = new PendingContext(entry.Snapshot, entry.Context, new DateTime(at, DateTimeKind.Utc));
            _pendingLatestBytes += size;
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

    // The configuration versions the pending contexts were evaluated with, each written once
    // (every instance holding the same configuration names it by the same digest).
    private const string VersionsSql = """
        INSERT INTO configuration_versions (environment_id, version, ruleset)
        SELECT u.environment_id, u.version, u.ruleset
          FROM unnest(@environment_ids, @versions, @rulesets) AS u(environment_id, version, ruleset)
          JOIN environments e ON e.id = u.environment_id
        ON CONFLICT (environment_id, version) DO NOTHING
        """;

    // The later evaluation wins, whichever instance flushes last. Contexts of deleted flags or
    // environments are dropped by the filters instead of failing the batch.
    private const string ContextsSql = """
        INSERT INTO evaluation_contexts (environment_id, identifier, flag_id, version, context, evaluated_at)
        SELECT u.environment_id, u.identifier, u.flag_id, u.version, u.context, u.evaluated_at
          FROM unnest(@environment_ids, @identifiers, @flag_ids, @versions, @contexts, @evaluated_at)
               AS u(environment_id, identifier, flag_id, version, context, evaluated_at)
          JOIN environments e ON e.id = u.environment_id
         WHERE u.flag_id = '00000000-0000-0000-0000-000000000000' OR EXISTS (SELECT 1 FROM feature_flags f WHERE f.id = u.flag_id)
        ON CONFLICT (environment_id, identifier, flag_id)
        DO UPDATE SET version = EXCLUDED.version, context = EXCLUDED.context, evaluated_at = EXCLUDED.evaluated_at
         WHERE evaluation_contexts.evaluated_at <= EXCLUDED.evaluated_at
        """;

    private async Task WriteLatestAsync()
    {
        while (_pendingLatest.Count > 0)
        {
            long bytes = 0;
            var batch = _pendingLatest
                .TakeWhile((b, i) => i < _latestBatching.Size && (bytes += b.Value.Context.Size) - b.Value.Context.Size < MaxBytesPerStatement)
                .ToArray();
            if (!await WriteVersionsAsync(batch))
            {
                return;
            }

            await using var command = db.CreateCommand(ContextsSql);
            command.CommandTimeout = _options.CommandTimeoutSeconds;
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("environment_ids", batch.Select(b => b.Key.EnvironmentId).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<string[]>("identifiers", batch.Select(b => b.Key.Identifier).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("flag_ids", batch.Select(b => b.Key.FlagId).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<string[]>("versions", batch.Select(b => b.Value.Snapshot.Ruleset.Version).ToArray()));
            command.Parameters.Add(new NpgsqlParameter("contexts", NpgsqlDbType.Array | NpgsqlDbType.Json)
            {
                Value = batch.Select(b => b.Value.Context.ToJson()).ToArray(),
            });
            command.Parameters.Add(new NpgsqlParameter<DateTime[]>("evaluated_at", batch.Select(b => b.Value.At).ToArray()));
            if (!await ExecuteAsync(command, batch.Select(b => (object)b.Key), _latestBatching))
            {
                // A version pruned meanwhile (the foreign key refuses the rows) is written again next time.
                _writtenVersions.Clear();
                foreach (var (key, _) in batch.Where(b => Exhausted(b.Key)))
                {
                    DropLatest(key);
                }
                return;
            }
            foreach (var (key, pending) in batch)
            {
                _pendingLatest.Remove(key);
                _pendingLatestBytes -= pending.Context.Size;
            }
        }
    }

    private async Task<bool> WriteVersionsAsync(KeyValuePair<LatestKey, PendingContext>[] batch)
    {
        var versions = batch.Select(b => b.Value.Snapshot)
            .DistinctBy(s => (s.EnvironmentId, s.Ruleset.Version))
            .Where(s => !_writtenVersions.Contains((s.EnvironmentId, s.Ruleset.Version)))
            .ToArray();
        if (versions.Length == 0)
        {
            return true;
        }
        await using var command = db.CreateCommand(VersionsSql);
        command.CommandTimeout = _options.CommandTimeoutSeconds;
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("environment_ids", versions.Select(s => s.EnvironmentId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("versions", versions.Select(s => s.Ruleset.Version).ToArray()));
        command.Parameters.Add(new NpgsqlParameter("rulesets", NpgsqlDbType.Array | NpgsqlDbType.Json)
        {
            Value = versions.Select(s => Encoding.UTF8.GetString(s.Ruleset.Json)).ToArray(),
        });
        var keys = versions.Select(s => (object)(s.EnvironmentId, s.Ruleset.Version)).ToArray();
        if (!await ExecuteAsync(command, keys, _latestBatching))
        {
            // Contexts cannot be kept without their version: those whose version failed for good go with it.
            var exhausted = keys.Where(Exhausted).Cast<(Guid, string)>().ToHashSet();
            foreach (var (key, _) in _pendingLatest.Where(p => exhausted.Contains((p.Key.EnvironmentId, p.Value.Snapshot.Ruleset.Version))).ToArray())
            {
                DropLatest(key);
            }
            return false;
        }
        if (_writtenVersions.Count + versions.Length > MaxRememberedVersions)
        {
            _writtenVersions.Clear();
        }
        foreach (var snapshot in versions)
        {
            _writtenVersions.Add((snapshot.EnvironmentId, snapshot.Ruleset.Version));
        }
        return true;
    }

    private void DropLatest(LatestKey key)
    {
        if (_pendingLatest.Remove(key, out var pending))
        {
            _pendingLatestBytes -= pending.Context.Size;
            _attempts.Remove(key);
            _droppedAnswers++;
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

// An identifier's latest evaluation on its way to the database: the snapshot gives the version.
internal readonly record struct PendingContext(EnvironmentSnapshot Snapshot, RecordedContext Context, DateTime At);
