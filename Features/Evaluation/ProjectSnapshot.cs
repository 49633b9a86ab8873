using System.Collections.Frozen;
using System.Text.Json;

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
        Environments = definition.Environments.Select(e => new EnvironmentSnapshot(this, e)).ToArray();
        _byKey = Environments.ToFrozenDictionary(e => e.Key, StringComparer.Ordinal);
    }

    public Guid ProjectId { get; }

    // Default first, then oldest first.
    public EnvironmentSnapshot[] Environments { get; }

    public EnvironmentSnapshot? Environment(string key) => _byKey.GetValueOrDefault(key);
}

public sealed class EnvironmentSnapshot
{
    public EnvironmentSnapshot(ProjectSnapshot project, EnvironmentDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        Project = project;
        EnvironmentId = definition.Id;
        Key = definition.Key;
        EncodedKey = JsonEncodedText.Encode(definition.Key);
        IsDefault = definition.IsDefault;
        SecretKeys = [definition.SdkKey, definition.ServerKey];
        Flags = definition.Flags.OrderBy(f => f.Key, StringComparer.Ordinal).Select(CompiledFlag.Compile).ToArray();
        EncodedKeys = Array.ConvertAll(Flags, f => JsonEncodedText.Encode(f.Key));
        FlagIds = Array.ConvertAll(Flags, f => f.Id);
        IndexByKey = Flags.Select((f, i) => (f.Key, i)).ToFrozenDictionary(p => p.Key, p => p.i, StringComparer.Ordinal);
    }

    public ProjectSnapshot Project { get; }
    public Guid ProjectId => Project.ProjectId;
    public Guid EnvironmentId { get; }
    public string Key { get; }
    public JsonEncodedText EncodedKey { get; }
    public bool IsDefault { get; }

    // The keys that reach this environment: its sdk key and its server key.
    public string[] SecretKeys { get; }

    // Ordered by key, so responses list flags in a stable order.
    public CompiledFlag[] Flags { get; }
    public Guid[] FlagIds { get; }
    public JsonEncodedText[] EncodedKeys { get; }
    public FrozenDictionary<string, int> IndexByKey { get; }
}
