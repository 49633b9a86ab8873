using System.Collections.Frozen;
using System.Text.Json;
using FlagService.Features.Analytics;

namespace FlagService.Features.Evaluation;

// Everything evaluation needs for one project, immutable: built once per configuration change and
// read by any number of requests without locks.
public sealed class ProjectSnapshot
{
    public ProjectSnapshot(Guid projectId, string sdkKey, CompiledFlag[] flags, FlagCounters[] counters, string version)
    {
        ProjectId = projectId;
        SdkKey = sdkKey;
        Flags = flags;
        Counters = counters;
        Version = version;
        EncodedKeys = Array.ConvertAll(flags, f => JsonEncodedText.Encode(f.Key));
        FlagIds = Array.ConvertAll(flags, f => f.Id);
        IndexByKey = flags.Select((f, i) => (f.Key, i)).ToFrozenDictionary(p => p.Key, p => p.i, StringComparer.Ordinal);
    }

    public Guid ProjectId { get; }
    public string SdkKey { get; }

    // Ordered by key, so responses list flags in a stable order.
    public CompiledFlag[] Flags { get; }
    public Guid[] FlagIds { get; }
    public JsonEncodedText[] EncodedKeys { get; }
    public FlagCounters[] Counters { get; }
    public FrozenDictionary<string, int> IndexByKey { get; }

    // A digest of everything that can change an answer; equal versions give equal answers.
    public string Version { get; }
}
