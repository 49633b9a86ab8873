using System.Collections.Concurrent;
using Dapper;
using FlagService.Features.Evaluation;
using Npgsql;

namespace FlagService.Features.Analytics.Evaluations;

// Compiled configuration versions for the read API, which evaluates an identifier's last context
// with the version it met. Versions are immutable, so a compiled one never goes stale; a few are
// kept (support looks at one project at a time), loaded from configuration_versions on a miss.
public sealed class ConfigurationVersions(NpgsqlDataSource db)
{
    private const int Capacity = 32;
    private readonly ConcurrentDictionary<(Guid Environment, string Version), Lazy<Task<EnvironmentSnapshot?>>> _compiled = new();

    private const string Sql = "SELECT ruleset::text FROM configuration_versions WHERE environment_id = @EnvironmentId AND version = @Version";

    public async Task<EnvironmentSnapshot?> GetAsync(Guid environmentId, string version)
    {
        var key = (environmentId, version);
        if (_compiled.Count >= Capacity && !_compiled.ContainsKey(key))
        {
            // Beyond the capacity an arbitrary one goes; a version asked for again is compiled again.
            foreach (var other in _compiled.Keys.Take(_compiled.Count - Capacity + 1))
            {
                _compiled.TryRemove(other, out _);
            }
        }
        var lazy = _compiled.GetOrAdd(key, k => new Lazy<Task<EnvironmentSnapshot?>>(() => LoadAsync(k.Environment, k.Version)));
        EnvironmentSnapshot? snapshot = null;
        try
        {
            snapshot = await lazy.Value;
            return snapshot;
        }
        finally
        {
            if (snapshot is null)
            {
                _compiled.TryRemove(new KeyValuePair<(Guid, string), Lazy<Task<EnvironmentSnapshot?>>>(key, lazy));
            }
        }
    }

    private async Task<EnvironmentSnapshot?> LoadAsync(Guid environmentId, string version)
    {
        await using var connection = await db.OpenConnectionAsync();
        var json = await connection.QuerySingleOrDefaultAsync<string>(Sql, new { EnvironmentId = environmentId, Version = version });
        return json is null ? null : new ProjectSnapshot(Ruleset.Parse(System.Text.Encoding.UTF8.GetBytes(json)).ToDefinition()).Environments[0];
    }
}
