using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using FlagService.Client;
using FlagService.Features.Evaluation;

BenchmarkSwitcher.FromAssembly(typeof(IsEnabledBenchmarks).Assembly).Run(args);

// IsEnabled for a flag with three attribute rules, the client booted offline from a ruleset file
// (no network in the measurement). Two contexts: one that no rule matches (all three rules and the
// rollout are walked) and one that the last rule matches.
[MemoryDiagnoser]
public class IsEnabledBenchmarks
{
    private FlagServiceClient _client = null!;
    private FlagContext _noMatch = null!;
    private FlagContext _lastRule = null!;
    private FlagContext _noMatchJson = null!;
    private JsonDocument _document = null!;
    private string _file = "";

    [GlobalSetup]
    public async Task SetUp()
    {
        static string Conditions(string attribute, string op, params object[] values) =>
            JsonSerializer.Serialize(new[] { new { attribute, @operator = op, values } });
        var created = DateTime.UtcNow;
        var rules = new[]
        {
            new RuleDefinition(Guid.NewGuid(), RuleTypes.AttributeMatch, null, Conditions("country", "in", "NL", "BE", "LU"), 100, true, 30, created),
            new RuleDefinition(Guid.NewGuid(), RuleTypes.AttributeMatch, null, Conditions("plan", "equals", "enterprise"), 100, true, 20, created),
            new RuleDefinition(Guid.NewGuid(), RuleTypes.AttributeMatch, null, Conditions("age", "gte", 65), 50, true, 10, created),
        };
        var flag = new FlagDefinition(Guid.NewGuid(), "checkout", true, 20, rules);
        var environment = new EnvironmentDefinition(Guid.NewGuid(), "production", "", "", true, [flag]);
        _file = Path.Combine(Path.GetTempPath(), $"bench-ruleset-{Guid.NewGuid():N}.json");
        await File.WriteAllBytesAsync(_file, Ruleset.Serialize(environment, []).Json);
        _client = await FlagServiceClient.StartAsync(new FlagServiceClientOptions { ServerKey = "srv_bench", RulesetFile = _file });

        using var attributes = JsonDocument.Parse("""{"country":"DE","plan":"pro","age":30}""");
        _noMatch = new FlagContext("user-1234", null, JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(attributes.RootElement.GetRawText()));
        _lastRule = new FlagContext("user-1234", null, JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{"country":"DE","plan":"pro","age":70}"""));
        // The same attributes as a JSON object (what the SDK endpoint reads): looked up by UTF-8 name.
        _document = JsonDocument.Parse("""{"country":"DE","plan":"pro","age":30}""");
        _noMatchJson = FlagContext.FromJson("user-1234", null, _document.RootElement);
        if (!_client.IsReady)
        {
            throw new InvalidOperationException("The client did not boot from the ruleset file.");
        }
    }

    [Benchmark]
    public bool IsEnabled_no_rule_matches() => _client.IsEnabled("checkout", _noMatch);

    [Benchmark]
    public bool IsEnabled_third_rule_matches() => _client.IsEnabled("checkout", _lastRule);

    [Benchmark]
    public bool IsEnabled_no_rule_matches_json_attributes() => _client.IsEnabled("checkout", _noMatchJson);

    [GlobalCleanup]
    public async Task CleanUp()
    {
        await _client.DisposeAsync();
        _document.Dispose();
        File.Delete(_file);
    }
}
