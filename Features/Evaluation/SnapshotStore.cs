using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using FlagService.Features.Analytics;
using FlagService.Infrastructure.Observability;
using Npgsql;

namespace FlagService.Features.Evaluation;

// Thrown when a snapshot must be loaded and the database cannot be reached: the SDK answers 503.
public sealed class SnapshotUnavailableException(Exception inner)
    : Exception("The flag configuration cannot be loaded: the database is unreachable.", inner);

// SDK key -> project snapshot, held in memory. A warm lookup is one dictionary read; a miss loads
// the project with one query. Writes invalidate through ProjectChanges (this instance at once,
// other instances through LISTEN/NOTIFY).
public sealed partial class SnapshotStore
{
    private static readonly TimeSpan UnknownKeyTtl = TimeSpan.FromSeconds(5);
    private const int MaxUnknownKeys = 10_000;

    private readonly ConcurrentDictionary<string, ProjectSnapshot> _byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, string> _keyByProject = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<ProjectSnapshot?>>> _loading = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _unknownKeys = new(StringComparer.Ordinal);
    private readonly NpgsqlDataSource _db;
    private readonly EvaluationRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly ILogger<SnapshotStore> _logger;
    private readonly FlagServiceMetrics _metrics;

    // Bumped by every invalidation; a load that saw it move may hold stale data and is not kept.
    private long _generation;

    public SnapshotStore(NpgsqlDataSource db, EvaluationRecorder recorder, ProjectChanges changes, TimeProvider time,
        ILogger<SnapshotStore> logger, FlagServiceMetrics metrics)
    {
        _db = db;
        _recorder = recorder;
        _time = time;
        _logger = logger;
        changes.Subscribe(Invalidate, InvalidateAll);
        _metrics = metrics;
        metrics.ObserveSnapshots(() => _byKey.Count);
    }

    public ValueTask<ProjectSnapshot?> FindAsync(string sdkKey)
    {
        if (_byKey.TryGetValue(sdkKey, out var snapshot))
        {
            return ValueTask.FromResult<ProjectSnapshot?>(snapshot);
        }
        if (_unknownKeys.TryGetValue(sdkKey, out var expires) && expires > _time.GetTimestamp())
        {
            return ValueTask.FromResult<ProjectSnapshot?>(null);
        }
        return new ValueTask<ProjectSnapshot?>(LoadOnceAsync(sdkKey));
    }

    public void Invalidate(Guid projectId)
    {
        Interlocked.Increment(ref _generation);
        if (_keyByProject.TryRemove(projectId, out var key))
        {
            _byKey.TryRemove(key, out _);
        }
        _unknownKeys.Clear();
    }

    public void InvalidateAll()
    {
        Interlocked.Increment(ref _generation);
        _byKey.Clear();
        _keyByProject.Clear();
        _unknownKeys.Clear();
    }

    // Concurrent misses for one key share one query.
    private async Task<ProjectSnapshot?> LoadOnceAsync(string sdkKey)
    {
        var load = _loading.GetOrAdd(sdkKey, key => new Lazy<Task<ProjectSnapshot?>>(() => LoadAsync(key)));
        try
        {
            return await load.Value;
        }
        finally
        {
            _loading.TryRemove(new KeyValuePair<string, Lazy<Task<ProjectSnapshot?>>>(sdkKey, load));
        }
    }

    private const string Sql = """
        SELECT p.id, f.id, f.key, f.enabled, f.rollout_percentage,
               r.id, r.rule_type, r.rule_value, r.conditions::text, r.rollout_percentage, r.enabled, r.priority, r.created_at
          FROM projects p
          LEFT JOIN feature_flags f ON f.project_id = p.id
          LEFT JOIN targeting_rules r ON r.flag_id = f.id
         WHERE p.sdk_key = @SdkKey
         ORDER BY f.key, r.id
        """;

    private async Task<ProjectSnapshot?> LoadAsync(string sdkKey)
    {
        var generation = Interlocked.Read(ref _generation);
        Guid? projectId = null;
        var flags = new List<(Guid Id, string Key, bool Enabled, int Rollout, List<RuleDefinition> Rules)>();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await using var command = _db.CreateCommand(Sql);
            command.Parameters.AddWithValue("SdkKey", sdkKey);
            await using var reader = await command.ExecuteReaderAsync(timeout.Token);
            while (await reader.ReadAsync(timeout.Token))
            {
                projectId ??= reader.GetGuid(0);
                if (reader.IsDBNull(1))
                {
                    continue;
                }
                var flagId = reader.GetGuid(1);
                if (flags.Count == 0 || flags[^1].Id != flagId)
                {
                    flags.Add((flagId, reader.GetString(2), reader.GetBoolean(3), reader.GetInt32(4), []));
                }
                if (!reader.IsDBNull(5))
                {
                    flags[^1].Rules.Add(new RuleDefinition(
                        reader.GetGuid(5), reader.GetString(6),
                        reader.IsDBNull(7) ? null : reader.GetString(7),
                        reader.IsDBNull(8) ? null : reader.GetString(8),
                        reader.GetInt32(9), reader.GetBoolean(10), reader.GetInt32(11), reader.GetDateTime(12)));
                }
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            LogUnavailable(_logger, e.Message);
            throw new SnapshotUnavailableException(e);
        }

        if (projectId is null)
        {
            RememberUnknown(sdkKey, generation);
            return null;
        }

        var compiled = new CompiledFlag[flags.Count];
        var counters = new FlagCounters[flags.Count];
        var digest = new StringBuilder();
        for (var i = 0; i < flags.Count; i++)
        {
            var (id, key, enabled, rollout, rules) = flags[i];
            compiled[i] = CompiledFlag.Compile(new FlagDefinition(id, key, enabled, rollout, rules));
            counters[i] = _recorder.CountersFor(id);
            digest.Append(id).Append(key).Append(enabled).Append(rollout);
            foreach (var r in rules)
            {
                digest.Append(r.Id).Append(r.RuleType).Append(r.RuleValue).Append(r.ConditionsJson)
                      .Append(r.RolloutPercentage).Append(r.Enabled).Append(r.Priority).Append(r.CreatedAt.Ticks);
            }
        }
        var version = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(digest.ToString())))[..16];
        var snapshot = new ProjectSnapshot(projectId.Value, sdkKey, compiled, counters, version);

        // Publish, then check that no invalidation slipped in since the query started: if one did,
        // the data may predate it, so take it back out (this request still gets an answer).
        _keyByProject[snapshot.ProjectId] = sdkKey;
        _byKey[sdkKey] = snapshot;
        _metrics.SnapshotLoaded();
        if (Interlocked.Read(ref _generation) != generation)
        {
            _byKey.TryRemove(new KeyValuePair<string, ProjectSnapshot>(sdkKey, snapshot));
        }
        return snapshot;
    }

    // Random keys cannot be guessed, so a short negative cache only shields the database from
    // clients that keep sending a revoked or mistyped key.
    private void RememberUnknown(string sdkKey, long generation)
    {
        if (_unknownKeys.Count >= MaxUnknownKeys)
        {
            _unknownKeys.Clear();
        }
        if (Interlocked.Read(ref _generation) == generation)
        {
            _unknownKeys[sdkKey] = _time.GetTimestamp() + (long)(UnknownKeyTtl.TotalSeconds * _time.TimestampFrequency);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot load a project snapshot: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}
