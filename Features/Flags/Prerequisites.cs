using System.Data.Common;
using Dapper;
using FlagService.Features.Evaluation;

namespace FlagService.Features.Flags;

public sealed record PrerequisiteRequest(string? Flag, string? Variant = null);

public sealed record PrerequisiteResponse(string Flag, string Variant);

// A flag's prerequisites in one environment: other flags of the project that must serve a given
// variant (boolean ones: `on` unless said otherwise) for it to be evaluated at all. The environment's
// whole graph stays acyclic and at most MaxDepth deep (FlagConfigInput checks written lists).
public static class Prerequisites
{
    public const int MaxDepth = 10;
    public const int MaxPerFlag = 50;

    private sealed record EdgeRow(string Flag, string Required);

    // Serialises writers of one environment's graph, so two changes cannot close a cycle together.
    private const string LockSql = "SELECT id FROM environments WHERE id = @EnvironmentId FOR NO KEY UPDATE";

    private const string EdgesSql = """
        SELECT df.key AS flag, rf.key AS required
          FROM flag_prerequisites p
          JOIN feature_flags df ON df.id = p.flag_id
          JOIN feature_flags rf ON rf.id = p.required_flag_id
         WHERE p.environment_id = @EnvironmentId
        """;

    // For copies between environments: the problem with the environment's graph as it now is.
    public static async Task<string?> CheckAsync(DbConnection connection, DbTransaction transaction, Guid environmentId, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition(LockSql, new { EnvironmentId = environmentId }, transaction, cancellationToken: ct));
        var edges = await connection.QueryAsync<EdgeRow>(new CommandDefinition(EdgesSql, new { EnvironmentId = environmentId }, transaction, cancellationToken: ct));
        return GraphProblem(edges.Select(e => (e.Flag, e.Required)));
    }

    // A cycle, or the first chain longer than MaxDepth, written out: "a → b → a".
    public static string? GraphProblem(IEnumerable<(string Flag, string Required)> edges)
    {
        var graph = edges.GroupBy(e => e.Flag, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Required).OrderBy(k => k, StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
        var depth = new Dictionary<string, (int Depth, string[] Chain)>(StringComparer.Ordinal);
        var path = new List<string>();

        string? Visit(string flag)
        {
            if (depth.ContainsKey(flag))
            {
                return null;
            }
            var onPath = path.IndexOf(flag);
            if (onPath >= 0)
            {
                return $"would make a cycle: {string.Join(" → ", path.Skip(onPath).Append(flag))}";
            }
            path.Add(flag);
            var deepest = (Depth: 0, Chain: new[] { flag });
            foreach (var required in graph.GetValueOrDefault(flag) ?? [])
            {
                if (Visit(required) is { } problem)
                {
                    return problem;
                }
                var below = depth[required];
                if (below.Depth + 1 > deepest.Depth)
                {
                    deepest = (below.Depth + 1, [flag, .. below.Chain]);
                }
            }
            path.RemoveAt(path.Count - 1);
            depth[flag] = deepest;
            return deepest.Depth > MaxDepth
                ? $"would chain more than {MaxDepth} prerequisites: {string.Join(" → ", deepest.Chain)}"
                : null;
        }

        foreach (var flag in graph.Keys.OrderBy(k => k, StringComparer.Ordinal))
        {
            if (Visit(flag) is { } problem)
            {
                return problem;
            }
        }
        return null;
    }
}
