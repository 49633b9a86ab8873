using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using FlagService.Features.Analytics;
using FlagService.Features.Evaluation;
using FlagService.Features.Sdk.Evaluate;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

BenchmarkSwitcher.FromAssembly(typeof(AnswerBenchmarks).Assembly).Run(args);

// What POST /sdk/v1/evaluate does after the key and the body, for the projects scripts/bench.sh
// loads (bench/seed.py): evaluate every flag, count the outcomes, write the answer. One operation
// answers one request; requests cycle over the 10 000 users that bench/evaluate.lua sends, so the
// per-user analytics state is as warm as under load. Divide by the flag count for a per-flag cost.
[MemoryDiagnoser]
public class AnswerBenchmarks
{
    private const int Users = 10_000;
    private static readonly string[] Plans = ["free", "pro", "enterprise", "team"];
    private static readonly string[] Versions = ["1.9.3", "2.4.0", "2.10.1", "3.0.0-beta.1", "2.3.9"];
    private static readonly string[] Countries = ["FR", "DE", "US", "GB", "JP", "us"];
    private static readonly string[] Domains = ["example.com", "corp.example", "partner.example", "Corp.Example"];

    private EnvironmentSnapshot _snapshot = null!;
    private EvaluationRecorder _recorder = null!;
    private EvaluateFlags.EvaluateRequest[] _requests = null!;
    private DefaultHttpContext _http = null!;
    private int _next;

    [Params("plain", "attribute", "large")]
    public string Project { get; set; } = "plain";

    [GlobalSetup]
    public async Task SetUp()
    {
        var flags = Project switch
        {
            "plain" => Enumerable.Range(0, 20).Select(i => Flag(i, $"flag_{i:00}", Rollout(i), PlainRules(i))).ToArray(),
            "attribute" => Enumerable.Range(0, 20).Select(i => Flag(i, $"flag_{i:00}", Rollout(i), AttributeRules(i))).ToArray(),
            _ => Enumerable.Range(0, 1000).Select(i => Flag(i, $"flag_{i:0000}", 50,
                [Rule(RuleTypes.UserId, $"user_{i * 7}", null, 100, 0)])).ToArray(),
        };
        var environment = new EnvironmentDefinition(Guid.NewGuid(), "production", "sdk_bench", "srv_bench", true, flags);
        _snapshot = new ProjectSnapshot(new ProjectDefinition(Guid.NewGuid(), [environment])).Environments[0];
        _recorder = new EvaluationRecorder(Options.Create(new AnalyticsOptions()), TimeProvider.System);
        _requests = new EvaluateFlags.EvaluateRequest[Users];
        for (var n = 1; n <= Users; n++)
        {
            _requests[n - 1] = (await ReadAsync(Body(Project == "attribute", n)))!;
        }
        _http = new DefaultHttpContext();
        _http.Response.Body = Stream.Null;
    }

    [Benchmark]
    public void Answer()
    {
        var request = _requests[_next];
        _next = (_next + 1) % Users;
        var entries = EvaluateFlags.Answer(_snapshot, request, _recorder);
        EvaluateFlags.WriteAsync(_http.Response, _snapshot, entries, false, CancellationToken.None).GetAwaiter().GetResult();
        EvaluateFlags.Release(entries, _snapshot.Flags.Length);
    }

    private static async Task<EvaluateFlags.EvaluateRequest?> ReadAsync(string body)
    {
        var http = new DefaultHttpContext();
        http.Request.ContentType = "application/json";
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        var (request, error, _) = await EvaluateRequestReader.ReadAsync(http.Request, CancellationToken.None);
        return error is null ? request : throw new InvalidOperationException($"bad benchmark body {body}");
    }

    // As bench/evaluate.lua writes them.
    private static string Body(bool attributes, int n)
    {
        var parts = new List<string> { $"\"user_id\":\"user_{n}\"" };
        if (n % 4 == 0)
        {
            parts.Add($"\"user_email\":\"user_{n}@{Domains[n / 4 % Domains.Length]}\"");
        }
        if (attributes)
        {
            parts.Add($"\"custom_attributes\":{{\"plan\":\"{Plans[n % 4]}\",\"app_version\":\"{Versions[n * 7 % 5]}\",\"country\":\"{Countries[n * 13 % 6]}\"," +
                      $"\"seats\":{n * 37 % 500 + 1},\"signup\":\"2026-{n % 12 + 1:00}-{n % 28 + 1:00}T{n % 24:00}:{n % 60:00}:00Z\"}}");
        }
        return "{" + string.Join(',', parts) + "}";
    }

    private static int Rollout(int i) => new[] { 0, 5, 10, 25, 50, 75, 100, -1 }[i % 8];

    private static FlagDefinition Flag(int i, string key, int rollout, RuleDefinition[] rules) =>
        new(Guid.NewGuid(), key, rollout >= 0, Math.Max(0, rollout), rules);

    private static RuleDefinition Rule(string type, string? value, string? conditions, int rollout, int priority) =>
        new(Guid.NewGuid(), type, value, conditions, rollout, true, priority, DateTime.UtcNow);

    private static RuleDefinition[] PlainRules(int i) =>
    [
        Rule(RuleTypes.UserId, $"user_{i * 37}", null, 100, 30),
        Rule(RuleTypes.UserEmail, $"user_{i * 41 + 3}@example.com", null, 100, 20),
        Rule(RuleTypes.EmailDomain, i % 2 == 1 ? "@corp.example" : "@partner.example", null, 50, 10),
    ];

    // bench/seed.py's CONDITIONS, three per rule.
    private static readonly object[] Conditions =
    [
        new { attribute = "plan", @operator = "in", values = new object[] { "pro", "enterprise" } },
        new { attribute = "app_version", @operator = "semver_gte", values = new object[] { "2.4.0" } },
        new { attribute = "country", @operator = "in", values = new object[] { "FR", "DE" }, negate = true },
        new { attribute = "seats", @operator = "gt", values = new object[] { 50 } },
        new { attribute = "country", @operator = "starts_with", values = new object[] { "u", "g" }, ignore_case = true },
        new { attribute = "user_id", @operator = "matches", values = new object[] { "^user_[0-9]*7$" } },
        new { attribute = "signup", @operator = "after", values = new object[] { "2026-03-01T00:00:00Z" } },
        new { attribute = "signup", @operator = "before", values = new object[] { "2026-09-01T00:00:00Z" } },
        new { attribute = "app_version", @operator = "semver_lt", values = new object[] { "3.0.0" } },
        new { attribute = "seats", @operator = "lte", values = new object[] { 400 } },
        new { attribute = "plan", @operator = "equals", values = new object[] { "free" }, negate = true },
    ];

    private static RuleDefinition[] AttributeRules(int i) => Enumerable.Range(0, 3).Select(r =>
    {
        var start = i * 3 + r * 4;
        var conditions = JsonSerializer.Serialize(Enumerable.Range(0, 3).Select(c => Conditions[(start + c) % Conditions.Length]));
        return Rule(RuleTypes.AttributeMatch, null, conditions, r > 0 ? 100 : 50, 30 - r * 10);
    }).ToArray();
}
