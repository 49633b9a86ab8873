using System.Collections.Concurrent;
using FlagService.Infrastructure.Observability;

namespace FlagService.Features.Evaluation;

// Environment key (sdk or server key) -> the environment's snapshot, held in memory. A warm lookup
// is one dictionary read; a miss loads the whole project (SnapshotLoader) and caches every
// environment of it under its keys. Writes invalidate a project through ProjectChanges (this
// instance at once, other instances through LISTEN/NOTIFY).
public sealed class SnapshotStore
{
    private static readonly TimeSpan UnknownKeyTtl = TimeSpan.FromSeconds(5);
    private const int MaxUnknownKeys = 10_000;

    private readonly ConcurrentDictionary<string, EnvironmentSnapshot> _byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, ProjectSnapshot> _projects = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<EnvironmentSnapshot?>>> _loading = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _unknownKeys = new(StringComparer.Ordinal);
    private readonly SnapshotLoader _loader;
    private readonly TimeProvider _time;
    private readonly FlagServiceMetrics _metrics;

    // Bumped by every invalidation; a load that saw it move may hold stale data and is not kept.
    private long _generation;

    public SnapshotStore(SnapshotLoader loader, ProjectChanges changes, TimeProvider time, FlagServiceMetrics metrics)
    {
        _loader = loader;
        _time = time;
        _metrics = metrics;
        changes.Subscribe(Invalidate, InvalidateAll);
        metrics.ObserveSnapshots(() => _projects.Values.Sum(p => p.Environments.Length));
    }

    // The projects in memory now (each with all its environments).
    public ICollection<ProjectSnapshot> Projects => _projects.Values;

    public ValueTask<EnvironmentSnapshot?> FindAsync(string key)
    {
        if (_byKey.TryGetValue(key, out var snapshot))
        {
            return ValueTask.FromResult<EnvironmentSnapshot?>(snapshot);
        }
        if (_unknownKeys.TryGetValue(key, out var expires) && expires > _time.GetTimestamp())
        {
            return ValueTask.FromResult<EnvironmentSnapshot?>(null);
        }
        return new ValueTask<EnvironmentSnapshot?>(LoadOnceAsync(key));
    }

    public void Invalidate(Guid projectId)
    {
        Interlocked.Increment(ref _generation);
        if (_projects.TryRemove(projectId, out var project))
        {
            foreach (var environment in project.Environments)
            {
                foreach (var key in environment.SecretKeys)
                {
                    _byKey.TryRemove(new KeyValuePair<string, EnvironmentSnapshot>(key, environment));
                }
            }
        }
        _unknownKeys.Clear();
    }

    public void InvalidateAll()
    {
        Interlocked.Increment(ref _generation);
        _byKey.Clear();
        _projects.Clear();
        _unknownKeys.Clear();
    }

    // Concurrent misses for one key share one query.
    private async Task<EnvironmentSnapshot?> LoadOnceAsync(string key)
    {
        var load = _loading.GetOrAdd(key, k => new Lazy<Task<EnvironmentSnapshot?>>(() => LoadAsync(k)));
        try
        {
            return await load.Value;
        }
        finally
        {
            _loading.TryRemove(new KeyValuePair<string, Lazy<Task<EnvironmentSnapshot?>>>(key, load));
        }
    }

    private async Task<EnvironmentSnapshot?> LoadAsync(string key)
    {
        var generation = Interlocked.Read(ref _generation);
        var definition = await _loader.LoadAsync(key);
        if (definition is null)
        {
            RememberUnknown(key, generation);
            return null;
        }

        var project = new ProjectSnapshot(definition);
        _metrics.SnapshotLoaded();
        // Publish, then check that no invalidation slipped in since the query started: if one did,
        // the data may predate it, so take it back out (this request still gets an answer).
        _projects[project.ProjectId] = project;
        foreach (var environment in project.Environments)
        {
            foreach (var secret in environment.SecretKeys)
            {
                _byKey[secret] = environment;
            }
        }
        if (Interlocked.Read(ref _generation) != generation)
        {
            _projects.TryRemove(new KeyValuePair<Guid, ProjectSnapshot>(project.ProjectId, project));
            foreach (var environment in project.Environments)
            {
                foreach (var secret in environment.SecretKeys)
                {
                    _byKey.TryRemove(new KeyValuePair<string, EnvironmentSnapshot>(secret, environment));
                }
            }
        }
        return project.Environments.First(e => e.SecretKeys.Contains(key, StringComparer.Ordinal));
    }

    // Random keys cannot be guessed, so a short negative cache only shields the database from
    // clients that keep sending a revoked or mistyped key.
    private void RememberUnknown(string key, long generation)
    {
        if (_unknownKeys.Count >= MaxUnknownKeys)
        {
            _unknownKeys.Clear();
        }
        if (Interlocked.Read(ref _generation) == generation)
        {
            _unknownKeys[key] = _time.GetTimestamp() + (long)(UnknownKeyTtl.TotalSeconds * _time.TimestampFrequency);
        }
    }
}
