using System.Data.Common;
using Dapper;
using FlagService.Features.Evaluation;

namespace FlagService.Features.Flags;

public sealed record PrerequisiteRequest(string? Flag, string? Variant = null);

public sealed record PrerequisiteResponse(string Flag, string Variant);

// A flag's prerequisites in one environment: other flags of the project that must serve a given
// variant (boolean ones: `on` unless said otherwise) for it to be evaluated at all. Written lists
// are checked against the environment's whole graph: flags and variants exist, no cycle, no chain
// deeper than MaxDepth.
public static class Prerequisites
{
    public const int MaxDepth = 10;
    public const int MaxPerFlag = 50;

    public sealed record Resolved(Guid FlagId, string Variant);

    private sealed record FlagRow(Guid Id, string Key, string ValueType, string VariantList);

    private sealed record EdgeRow(string Flag, string Required);

    // Serialises writers of one environment's graph, so two changes cannot close a cycle together.
    private const string LockSql = "SELECT id FROM environments WHERE id = @EnvironmentId FOR NO KEY UPDATE";

    private const string FlagsSql = """
        SELECT f.id, f.key, f.value_type,
               (SELECT string_agg(v.key, ',' ORDER BY v.position) FROM flag_variants v WHERE v.flag_id = f.id) AS variant_list
          FROM feature_flags f WHERE f.project_id = @ProjectId
        """;

    private const string EdgesSql = """
        SELECT df.key AS flag, rf.key AS required
          FROM flag_prerequisites p
          JOIN feature_flags df ON df.id = p.flag_id
          JOIN feature_flags rf ON rf.id = p.required_flag_id
         WHERE p.environment_id = @EnvironmentId
        """;

    private const string ReplaceSql = """
        DELETE FROM flag_prerequisites WHERE environment_id = @EnvironmentId AND flag_id = @FlagId;
        INSERT INTO flag_prerequisites (environment_id, flag_id, position, required_flag_id, variant)
        SELECT @EnvironmentId, @FlagId, u.position, u.required, u.variant
          FROM unnest(CAST(@Required AS uuid[]), CAST(@Variants AS text[])) WITH ORDINALITY AS u(required, variant, position);
        """;

    // Replaces the prerequisites of flagKey in the environment after checking them. Null when
    // written; otherwise the field errors and nothing was written.
    public static async Task<Dictionary<string, string[]>?> ReplaceAsync(DbConnection connection, DbTransaction transaction,
        Guid projectId, Guid environmentId, Guid flagId, string flagKey, PrerequisiteRequest[] requested, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition(LockSql, new { EnvironmentId = environmentId }, transaction, cancellationToken: ct));
        var flags = (await connection.QueryAsync<FlagRow>(new CommandDefinition(FlagsSql, new { ProjectId = projectId }, transaction, cancellationToken: ct)))
            .ToDictionary(f => f.Key, StringComparer.Ordinal);

        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string rule) => (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(rule);
        if (requested.Length > MaxPerFlag)
        {
            Add("prerequisites", $"must hold at most {MaxPerFlag} prerequisites");
        }
        var resolved = new List<(string Key, Resolved Prerequisite)>();
        for (var i = 0; i < requested.Length && i < MaxPerFlag; i++)
        {
            var entry = requested[i];
            var at = $"prerequisites[{i}]";
            if (entry?.Flag is null || !flags.TryGetValue(entry.Flag, out var required))
            {
                Add($"{at}.flag", entry?.Flag is null ? "is required" : $"names no flag of this project ('{entry.Flag}')");
                continue;
            }
            if (required.Key == flagKey)
            {
                Add($"{at}.flag", "cannot be the flag itself");
                continue;
            }
            if (resolved.Any(r => r.Key == required.Key))
            {
                Add($"{at}.flag", $"appears twice ('{required.Key}')");
                continue;
            }
            var variants = required.VariantList.Split(',');
            var variant = entry.Variant ?? (required.ValueType == ValueTypes.Boolean ? ValueTypes.On : null);
            if (variant is null || !variants.Contains(variant, StringComparer.Ordinal))
            {
                Add($"{at}.variant", variant is null
                    ? $"is required: flag '{required.Key}' is a {required.ValueType} flag (variants: {string.Join(", ", variants)})"
                    : $"names no variant of flag '{required.Key}' ('{variant}'; variants: {string.Join(", ", variants)})");
                continue;
            }
            resolved.Add((required.Key, new Resolved(required.Id, variant)));
        }

        if (errors.Count == 0)
        {
            var edges = (await connection.QueryAsync<EdgeRow>(new CommandDefinition(EdgesSql, new { EnvironmentId = environmentId }, transaction, cancellationToken: ct)))
                .Where(e => e.Flag != flagKey).Select(e => (e.Flag, e.Required))
                .Concat(resolved.Select(r => (flagKey, r.Key)));
            if (GraphProblem(edges) is { } problem)
            {
                Add("prerequisites", problem);
            }
        }
        if (errors.Count > 0)
        {
            return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
        }

        await connection.ExecuteAsync(new CommandDefinition(ReplaceSql, new
        {
            EnvironmentId = environmentId, FlagId = flagId,
            Required = resolved.Select(r => r.Prerequisite.FlagId).ToArray(),
            Variants = resolved.Select(r => r.Prerequisite.Variant).ToArray(),
        }, transaction, cancellationToken: ct));
        return null;
    }

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
