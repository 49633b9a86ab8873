using System.Collections.Frozen;

namespace FlagService.Features.Evaluation;

// Everything evaluation needs for one project, immutable: built once per configuration change and
// read by any number of requests without locks. Requests work in one environment of it.
public sealed class ProjectSnapshot
{
    private readonly FrozenDictionary<string, EnvironmentSnapshot> _byKey;

    public ProjectSnapshot(ProjectDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ProjectId = definition.ProjectId;
        Segments = definition.Segments ?? [];
        // Every condition of the project, in segments and in each environment's rules, takes its
        // slot here; the table is complete (and only read) once the constructor returns.
        Slots = new AttributeSlots();
        var segments = (definition.Segments ?? []).Select(s => CompiledSegment.Compile(s, Slots)).ToDictionary(s => s.Key, StringComparer.Ordinal);
        Environments = definition.Environments.Select(e => new EnvironmentSnapshot(this, e, segments)).ToArray();
        _byKey = Environments.ToFrozenDictionary(e => e.Key, StringComparer.Ordinal);
    }

    public Guid ProjectId { get; }

    // The custom attributes this project's conditions read, by slot: decode a request's attributes
    // with it (Slots.Read) to evaluate them in any environment of this snapshot.
    public AttributeSlots Slots { get; }

    // When this snapshot was built (OFREP's lastModified hint).
    public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;

    // As loaded: the ruleset serializes them.
    public IReadOnlyList<SegmentDefinition> Segments { get; }

    // Default first, then oldest first.
    public EnvironmentSnapshot[] Environments { get; }

    public EnvironmentSnapshot? Environment(string key) => _byKey.GetValueOrDefault(key);
}

public sealed class EnvironmentSnapshot
{
    // Marks in the outcomes an evaluation fills: not evaluated yet, and being evaluated (a cycle,
    // which validation refuses, then fails the prerequisite instead of recursing for ever).
    public const ushort Pending = ushort.MaxValue;
    private const ushort InProgress = ushort.MaxValue - 1;

    private readonly (int Flag, int Variant)[][] _prerequisites;
    private readonly Lazy<SerializedRuleset> _ruleset;

    public EnvironmentSnapshot(ProjectSnapshot project, EnvironmentDefinition definition, IReadOnlyDictionary<string, CompiledSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(definition);
        Project = project;
        EnvironmentId = definition.Id;
        Key = definition.Key;
        IsDefault = definition.IsDefault;
        SecretKeys = [definition.SdkKey, definition.ServerKey];
        ServerKey = definition.ServerKey;
        Definition = definition;
        // Serialized on first use (ruleset request or stream event), once per snapshot.
        _ruleset = new Lazy<SerializedRuleset>(() => Evaluation.Ruleset.Serialize(definition, project.Segments));
        Flags = definition.Flags.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => CompiledFlag.Compile(f, segments, project.Slots)).ToArray();
        FlagIds = Array.ConvertAll(Flags, f => f.Id);
        IndexByKey = Flags.Select((f, i) => (f.Key, i)).ToFrozenDictionary(p => p.Key, p => p.i, StringComparer.Ordinal);
        // A prerequisite naming a flag or variant that is gone (validation refuses both) is never met: (-1, -1).
        _prerequisites = Array.ConvertAll(Flags, f => f.Prerequisites.Select(p =>
            IndexByKey.TryGetValue(p.FlagKey, out var index) && Array.IndexOf(Flags[index].Variants, p.Variant) is var variant and >= 0
                ? (index, variant) : (-1, -1)).ToArray());
        HasPrerequisites = _prerequisites.Any(p => p.Length > 0);
        var split = Enumerable.Range(0, Flags.Length).Where(i => Flags[i].IsSplit).ToArray();
        SplitBuckets = new BucketBatch(split, Array.ConvertAll(split, i => Flags[i].BucketKey));
    }

    // The flags whose fallthrough splits users, to bucket an identifier for all of them at once.
    public BucketBatch SplitBuckets { get; }

    public bool HasPrerequisites { get; }

    // Evaluates flag `index` for the context, after its prerequisites (recursively, each flag at
    // most once: outcomes[i] and results[i] hold what flag i served, Pending until evaluated).
    public EvaluationResult Evaluate(int index, in EvaluationContext context, string? identifier, Span<ushort> outcomes,
        Span<EvaluationResult> results)
    {
        if (outcomes[index] != Pending)
        {
            return results[index];
        }
        var flag = Flags[index];
        EvaluationResult result;
        if (flag.Enabled && _prerequisites[index].Length > 0 && !PrerequisitesMet(index, in context, identifier, outcomes, results))
        {
            result = flag.PrerequisiteFailed();
        }
        else
        {
            result = flag.Evaluate(in context, identifier);
        }
        results[index] = result;
        outcomes[index] = Outcome.Of(result);
        return result;
    }

    private bool PrerequisitesMet(int index, in EvaluationContext context, string? identifier, Span<ushort> outcomes,
        Span<EvaluationResult> results)
    {
        outcomes[index] = InProgress;
        foreach (var (flag, variant) in _prerequisites[index])
        {
            if (flag < 0 || outcomes[flag] == InProgress)
            {
                return false;
            }
            if (Evaluate(flag, in context, identifier, outcomes, results).Variant != variant)
            {
                return false;
            }
        }
        return true;
    }

    public ProjectSnapshot Project { get; }
    public Guid ProjectId => Project.ProjectId;
    public AttributeSlots Slots => Project.Slots;
    public Guid EnvironmentId { get; }
    public string Key { get; }
    public bool IsDefault { get; }

    // The keys that reach this environment: its sdk key and its server key.
    public string[] SecretKeys { get; }

    public string ServerKey { get; }

    // Server keys are secrets for backends: only they may read the ruleset (the whole configuration,
    // segment lists included), while sdk keys are public, shipped to browsers and apps.
    public bool IsServerKey(string key) => !string.IsNullOrEmpty(ServerKey) && string.Equals(key, ServerKey, StringComparison.Ordinal);

    public EnvironmentDefinition Definition { get; }

    public SerializedRuleset Ruleset => _ruleset.Value;

    // Ordered by key, so responses list flags in a stable order.
    public CompiledFlag[] Flags { get; }
    public Guid[] FlagIds { get; }
    public FrozenDictionary<string, int> IndexByKey { get; }
}
