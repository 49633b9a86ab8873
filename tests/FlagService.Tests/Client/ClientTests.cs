extern alias client;

using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using client::FlagService.Client;
using Dapper;
using FlagService.Tests.Infrastructure;
using FlagService.Tests.Streaming;
using Npgsql;
using Xunit.Abstractions;

namespace FlagService.Tests.Client;

// Forwards to the instance that is up now; with none, fails as a refused connection would.
internal sealed class Switchboard : HttpMessageHandler
{
    private volatile HttpMessageInvoker? _current;

    public void Connect(FlagServiceFactory instance) => _current = new HttpMessageInvoker(instance.Server.CreateHandler());

    public void Disconnect() => _current = null;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _current?.SendAsync(request, cancellationToken) ?? throw new HttpRequestException("Connection refused", null, HttpStatusCode.ServiceUnavailable);
}

public sealed class ClientTests(AppFixture app, ITestOutputHelper output) : IClassFixture<AppFixture>
{
    private static FlagServiceClientOptions Options(HttpMessageHandler handler, string serverKey, string? file = null) => new()
    {
        BaseAddress = new Uri("http://localhost/"),
        ServerKey = serverKey,
        Handler = handler,
        RulesetFile = file,
        MinBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
        EventsInterval = TimeSpan.FromHours(1),
    };

    // Every rule type, segments (lists and conditions), prerequisites (boolean and multivariate),
    // variants of every value type, splits, a disabled flag.
    private static async Task<SdkScenario> RichProjectAsync(AppFixture app)
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var segments = $"/api/projects/{sdk.ProjectId}/segments";
        (await sdk.Owner.PostJsonAsync(segments, new
        {
            key = "beta", name = "Beta", included = new[] { "u3", "u7", "u11" }, excluded = new[] { "u13" },
            conditions = new[] { new { attribute = "plan", @operator = "in", values = new[] { "pro", "enterprise" } } },
        })).EnsureSuccessStatusCode();
        (await sdk.Owner.PostJsonAsync(segments, new { key = "listed", name = "Listed", included = Enumerable.Range(0, 500).Select(i => $"u{i * 7}").ToArray() }))
            .EnsureSuccessStatusCode();

        var checkout = await sdk.CreateFlagAsync("checkout", rollout: 30);
        await sdk.AddRuleAsync(checkout, new { rule_type = "user_id", rule_value = "u42", priority = 9 });
        await sdk.AddRuleAsync(checkout, new { rule_type = "user_email", rule_value = "vip@example.com", priority = 8 });
        await sdk.AddRuleAsync(checkout, new { rule_type = "email_domain", rule_value = "@corp.example", rollout_percentage = 60 });
        await sdk.AddRuleAsync(checkout, new { rule_type = "segment", rule_value = "beta", priority = 5 });
        await sdk.AddRuleAsync(checkout, new
        {
            rule_type = "attribute_match", rollout_percentage = 50,
            conditions = new object[]
            {
                new { attribute = "country", @operator = "in", values = new[] { "NL", "BE" } },
                new { attribute = "age", @operator = "gte", values = new object[] { 18 } },
            },
        });
        var mobile = await sdk.CreateFlagAsync("mobile", rollout: 0);
        await sdk.AddRuleAsync(mobile, new
        {
            rule_type = "attribute_match",
            conditions = new object[]
            {
                new { attribute = "app_version", @operator = "semver_gte", values = new[] { "2.1.0" } },
                new { attribute = "device", @operator = "starts_with", values = new[] { "ios" } },
            },
        });
        await sdk.AddRuleAsync(mobile, new
        {
            rule_type = "attribute_match", conditions = new object[] { new { attribute = "beta", @operator = "exists" } }, rollout_percentage = 40,
        });
        await sdk.AddRuleAsync(mobile, new { rule_type = "segment", rule_value = "listed" });
        await sdk.CreateFlagAsync("dormant", enabled: false, rollout: 100);

        var theme = await CreateAsync(sdk, new
        {
            name = "Theme", key = "theme", value_type = "string", enabled = true,
            variants = new object[] { new { key = "light", value = "light" }, new { key = "dark", value = "dark" }, new { key = "sepia", value = "sepia" } },
            serve = new { distribution = new object[] { new { variant = "light", weight = 50 }, new { variant = "dark", weight = 30 }, new { variant = "sepia", weight = 20 } } },
            off_variant = "light",
        });
        await sdk.AddRuleAsync(theme, new
        {
            rule_type = "attribute_match", serve = new { variant = "dark" },
            conditions = new object[] { new { attribute = "signup", @operator = "before", values = new[] { "2024-01-01T00:00:00Z" } } },
        });
        await sdk.AddRuleAsync(theme, new
        {
            rule_type = "segment", rule_value = "beta",
            serve = new { distribution = new object[] { new { variant = "sepia", weight = 50 }, new { variant = "dark", weight = 50 } } },
        });
        var limit = await CreateAsync(sdk, new
        {
            name = "Limit", key = "limit", value_type = "number", enabled = true,
            variants = new object[] { new { key = "low", value = 10 }, new { key = "high", value = 1000.5 } },
            serve = new { variant = "low" },
        });
        await sdk.AddRuleAsync(limit, new
        {
            rule_type = "attribute_match", serve = new { variant = "high" },
            conditions = new object[] { new { attribute = "email_hint", @operator = "matches", values = new[] { "^a.*z$" } } },
        });
        var layout = await CreateAsync(sdk, new
        {
            name = "Layout", key = "layout", value_type = "json", enabled = true,
            variants = new object[] { new { key = "grid", value = new { columns = 3 } }, new { key = "list", value = new { columns = 1, dense = true } } },
            serve = new { distribution = new object[] { new { variant = "grid", weight = 60 }, new { variant = "list", weight = 40 } } },
        });
        // Prerequisites: checkout must be on for perk; layout must serve grid for promo.
        var perk = await sdk.CreateFlagAsync("perk", rollout: 70);
        await PutAsync(sdk, perk, new { prerequisites = new[] { new { flag = "checkout", variant = "on" } } });
        var promo = await CreateAsync(sdk, new
        {
            name = "Promo", key = "promo", value_type = "string", enabled = true,
            variants = new object[] { new { key = "none", value = "" }, new { key = "spring", value = "SPRING" } },
            serve = new { variant = "spring" }, off_variant = "none",
        });
        await PutAsync(sdk, promo, new { prerequisites = new[] { new { flag = "layout", variant = "grid" }, new { flag = "perk", variant = "on" } } });
        _ = layout;
        return sdk;
    }

    private static async Task<string> CreateAsync(SdkScenario sdk, object body)
    {
        var response = await sdk.Owner.PostJsonAsync(sdk.Flags, body);
        response.EnsureSuccessStatusCode();
        return (await response.ReadObjectAsync())["id"]!.GetValue<string>();
    }

    private static async Task PutAsync(SdkScenario sdk, string flag, object body) =>
        (await sdk.Owner.PutJsonAsync($"/api/projects/{sdk.ProjectId}/environments/production/flags/{flag}", body)).EnsureSuccessStatusCode();

    private static JsonObject Context(Random random, int n)
    {
        var context = new JsonObject();
        if (random.Next(10) > 0)
        {
            context["user_id"] = $"u{n}";
        }
        if (random.Next(3) > 0)
        {
            var domains = new[] { "example.com", "corp.example", "Corp.Example", "mail.test" };
            context["user_email"] = n % 97 == 0 ? "vip@example.com" : $"{(char)('a' + random.Next(26))}{n}{(random.Next(4) == 0 ? "z" : "")}@{domains[random.Next(domains.Length)]}";
        }
        var attributes = new JsonObject();
        string[] plans = ["free", "pro", "enterprise"], countries = ["NL", "BE", "DE", "US"], devices = ["ios-17", "android-14", "iosx"];
        if (random.Next(4) > 0) attributes["plan"] = plans[random.Next(plans.Length)];
        if (random.Next(4) > 0) attributes["country"] = countries[random.Next(countries.Length)];
        if (random.Next(3) > 0) attributes["age"] = random.Next(10, 70);
        if (random.Next(2) > 0) attributes["app_version"] = $"{random.Next(1, 4)}.{random.Next(0, 3)}.{random.Next(0, 3)}";
        if (random.Next(2) > 0) attributes["device"] = devices[random.Next(devices.Length)];
        if (random.Next(5) == 0) attributes["beta"] = true;
        if (random.Next(3) == 0) attributes["signup"] = new DateTime(2022, 1, 1).AddDays(random.Next(1000)).ToString("O");
        if (random.Next(3) == 0) attributes["email_hint"] = random.Next(2) == 0 ? "abcz" : "abc";
        context["custom_attributes"] = attributes;
        return context;
    }

    [Fact]
    public async Task Client_answers_equal_sdk_evaluate_for_every_flag_over_10000_contexts()
    {
        var sdk = await RichProjectAsync(app);
        var serverKey = await sdk.ServerKeyAsync();
        await using var flags = await FlagServiceClient.StartAsync(Options(app.Factory.Server.CreateHandler(), serverKey),
            new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        flags.IsReady.Should().BeTrue();
        flags.FlagKeys.Should().HaveCount(8);

        var http = app.CreateClient();
        var random = new Random(13);
        var compared = 0;
        var reasons = new HashSet<string>();
        for (var n = 0; n < 10_000; n++)
        {
            var body = Context(random, n);
            var expected = await sdk.EvaluateAsync(http, body);
            using var parsed = JsonDocument.Parse(body.ToJsonString());
            var root = parsed.RootElement;
            var context = FlagContext.FromJson(
                root.TryGetProperty("user_id", out var id) ? id.GetString() : null,
                root.TryGetProperty("user_email", out var email) ? email.GetString() : null,
                root.GetProperty("custom_attributes"));
            foreach (var (key, answer) in expected)
            {
                var local = flags.GetVariant(key, context);
                var want = (answer!["variant"]!.GetValue<string>(), answer["reason"]!.GetValue<string>(), answer["enabled"]!.GetValue<bool>());
                (local.Variant, local.Reason, local.Enabled).Should().Be(want, $"flag {key}, context {body.ToJsonString()}");
                JsonNode.DeepEquals(JsonNode.Parse(local.Value.GetRawText()), answer["value"]).Should().BeTrue($"flag {key}, context {body.ToJsonString()}");
                flags.IsEnabled(key, context).Should().Be(want.Item3);
                reasons.Add(want.Item2);
                compared++;
            }
        }
        output.WriteLine($"{compared} answers compared over 10 000 contexts; reasons seen: {string.Join(", ", reasons.Order())}");
        reasons.Should().Contain(["rule_match", "rollout", "rollout_excluded", "disabled", "default", "prerequisite_failed"]);
    }

    // Attribute slots belong to a snapshot: a FlagContext kept across a ruleset change decodes its
    // attributes again for the new one, whose conditions number the attributes differently.
    [Fact]
    public async Task A_kept_context_answers_by_the_new_rulesets_attributes()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("pro_only", rollout: 0);
        await sdk.AddRuleAsync(flag, new
        {
            rule_type = "attribute_match", priority = 1, conditions = new object[] { new { attribute = "plan", @operator = "in", values = new[] { "pro" } } },
        });
        var serverKey = await sdk.ServerKeyAsync();
        await using var flags = await FlagServiceClient.StartAsync(Options(app.Factory.Server.CreateHandler(), serverKey),
            new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        static FlagContext User(string plan, string country) => new("u1", null, new Dictionary<string, JsonElement>
        {
            ["country"] = JsonSerializer.SerializeToElement(country),
            ["plan"] = JsonSerializer.SerializeToElement(plan),
        });
        var (pro, freeInGermany, freeInFrance) = (User("pro", "FR"), User("free", "DE"), User("free", "FR"));
        (flags.IsEnabled("pro_only", pro), flags.IsEnabled("pro_only", freeInGermany)).Should().Be((true, false));
        (await SdkScenario.EventuallyAsync(() => Task.FromResult(flags.StreamConnected), TimeSpan.FromSeconds(5))).Should().BeTrue(flags.LastError?.ToString());

        // A rule evaluated first, on another attribute, takes the first slot: plan moves to the second.
        var version = flags.Version;
        await sdk.AddRuleAsync(flag, new
        {
            rule_type = "attribute_match", priority = 10, conditions = new object[] { new { attribute = "country", @operator = "in", values = new[] { "DE" } } },
        });
        (await SdkScenario.EventuallyAsync(() => Task.FromResult(flags.Version != version), TimeSpan.FromSeconds(5))).Should().BeTrue();

        flags.IsEnabled("pro_only", pro).Should().BeTrue("the plan rule still matches, read from its new slot");
        flags.IsEnabled("pro_only", freeInGermany).Should().BeTrue("the country rule matches");
        flags.IsEnabled("pro_only", freeInFrance).Should().BeFalse();
    }

    [Fact]
    public async Task Client_keeps_serving_while_the_service_is_down_and_picks_up_changes_when_it_returns()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("kill_switch", rollout: 100);
        var serverKey = await sdk.ServerKeyAsync();
        var file = Path.Combine(Path.GetTempPath(), $"ruleset-{Guid.NewGuid():N}.json");
        var switchboard = new Switchboard();
        var first = new FlagServiceFactory(app.ConnectionString);
        await first.ListeningAsync();
        switchboard.Connect(first);
        try
        {
            await using var flags = await FlagServiceClient.StartAsync(Options(switchboard, serverKey, file),
                new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            var user = new FlagContext("u1");
            flags.IsEnabled("kill_switch", user).Should().BeTrue();
            (await SdkScenario.EventuallyAsync(() => Task.FromResult(flags.StreamConnected), TimeSpan.FromSeconds(5))).Should().BeTrue(flags.LastError?.ToString());

            // The service goes away; a change is made meanwhile (straight in the database).
            switchboard.Disconnect();
            await first.DisposeAsync();
            await using (var db = new NpgsqlConnection(app.ConnectionString))
            {
                await db.ExecuteAsync("UPDATE flag_environments SET enabled = false WHERE flag_id = @Flag::uuid", new { Flag = flag });
            }
            (await Eventually.TrueAsync(() => flags.LastError is not null)).Should().BeTrue("the client notices the service is gone");
            flags.IsEnabled("kill_switch", user).Should().BeTrue("the last known ruleset keeps answering");

            // It comes back: the reconnection's conditional fetch brings the missed change...
            await using var second = new FlagServiceFactory(app.ConnectionString);
            await second.ListeningAsync();
            switchboard.Connect(second);
            (await SdkScenario.EventuallyAsync(() => Task.FromResult(!flags.IsEnabled("kill_switch", user)), TimeSpan.FromSeconds(5)))
                .Should().BeTrue();
            // ...and the stream the next one, made through another instance.
            (await SdkScenario.EventuallyAsync(() => Task.FromResult(flags.StreamConnected), TimeSpan.FromSeconds(5))).Should().BeTrue();
            (await sdk.Owner.PostAsync($"{sdk.Flags}/{flag}/toggle", null)).EnsureSuccessStatusCode();
            (await SdkScenario.EventuallyAsync(() => Task.FromResult(flags.IsEnabled("kill_switch", user)), TimeSpan.FromSeconds(2)))
                .Should().BeTrue();

            // Offline boot: no service at all, only the file the client kept.
            await using var offline = await FlagServiceClient.StartAsync(new FlagServiceClientOptions { ServerKey = serverKey, RulesetFile = file });
            (offline.IsReady, offline.Version, offline.IsEnabled("kill_switch", user)).Should().Be((true, flags.Version, true));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Client_reports_its_evaluation_counts_exactly()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("counted", rollout: 50);
        var serverKey = await sdk.ServerKeyAsync();
        await using var flags = await FlagServiceClient.StartAsync(Options(app.Factory.Server.CreateHandler(), serverKey),
            new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        var on = 0;
        for (var i = 0; i < 1000; i++)
        {
            on += flags.IsEnabled("counted", new FlagContext($"user-{i}")) ? 1 : 0;
        }
        (await flags.FlushAsync()).Should().BeTrue();

        JsonObject? stats = null;
        (await SdkScenario.EventuallyAsync(async () =>
        {
            stats = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag}/stats?interval=minute&from={DateTime.UtcNow.AddMinutes(-5):O}")).ReadObjectAsync();
            return stats["totals"]!["total"]!.GetValue<long>() == 1000;
        }, TimeSpan.FromSeconds(10))).Should().BeTrue(stats?.ToJsonString());
        stats!["totals"]!["true"]!.GetValue<long>().Should().Be(on);
    }

    [Fact]
    public async Task Events_endpoint_needs_a_server_key_and_a_valid_batch()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        await sdk.CreateFlagAsync("f", rollout: 100);
        var serverKey = await sdk.ServerKeyAsync();
        var http = app.CreateClient();

        async Task<HttpResponseMessage> Post(string key, object body)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/events") { Content = System.Net.Http.Json.JsonContent.Create(body) };
            request.Headers.Add("X-SDK-Key", key);
            return await http.SendAsync(request);
        }

        var good = new { counts = new[] { new { flag = "f", variant = "on", reason = "rollout", count = 3 } } };
        await (await Post(sdk.SdkKey, good)).ShouldBeProblemAsync(403);
        await (await Post("srv_nope", good)).ShouldBeProblemAsync(401);
        await (await Post(serverKey, new { counts = new[] { new { flag = "f", variant = "on", reason = "guess", count = 0 } } })).ShouldBeProblemAsync(400);
        var accepted = await Post(serverKey, new { counts = new[] { good.counts[0], new { flag = "gone", variant = "on", reason = "rollout", count = 2 } } });
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await accepted.ReadObjectAsync()).ToJsonString().Should().Be("""{"recorded":3,"skipped":2}""");
    }
}
