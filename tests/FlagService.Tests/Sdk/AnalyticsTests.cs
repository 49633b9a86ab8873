using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using FlagService.Tests.Infrastructure;
using Npgsql;

namespace FlagService.Tests.Sdk;

public sealed class AnalyticsTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Stats_count_every_evaluation_exactly_after_a_flush()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var half = await sdk.CreateFlagAsync("half", rollout: 50);
        var off = await sdk.CreateFlagAsync("off", enabled: false);
        var client = app.CreateClient();
        var expected = new Dictionary<string, int>();
        const int Calls = 60;
        await Task.WhenAll(Enumerable.Range(0, Calls).Select(async i =>
        {
            var result = await sdk.EvaluateAsync(client, new { user_id = $"user_{i}" });
            lock (expected)
            {
                var reason = result["half"]!["reason"]!.GetValue<string>();
                expected[reason] = expected.GetValueOrDefault(reason) + 1;
            }
        }));

        JsonObject? stats = null;
        var counted = await SdkScenario.EventuallyAsync(async () =>
        {
            stats = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{half}/stats?interval=minute&from={DateTime.UtcNow.AddMinutes(-5):O}")).ReadObjectAsync();
            return stats["totals"]!["total"]!.GetValue<long>() == Calls;
        }, TimeSpan.FromSeconds(10));

        counted.Should().BeTrue(stats?.ToJsonString());
        var totals = stats!["totals"]!;
        totals["true"]!.GetValue<long>().Should().Be(expected.GetValueOrDefault("rollout"));
        totals["false"]!.GetValue<long>().Should().Be(expected.GetValueOrDefault("rollout_excluded"));
        totals["by_reason"]!.AsObject().Select(p => (p.Key, (int)p.Value!.GetValue<long>()))
            .Should().BeEquivalentTo(expected.Select(p => (p.Key, p.Value)));
        stats["buckets"]!.AsArray().Sum(b => b!["total"]!.GetValue<long>()).Should().Be(Calls);

        var offStats = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{off}/stats?interval=hour")).ReadObjectAsync();
        offStats["totals"]!["by_reason"]!["disabled"]!.GetValue<long>().Should().Be(Calls);
        offStats["totals"]!["false"]!.GetValue<long>().Should().Be(Calls);
    }

    [Fact]
    public async Task Stats_count_a_failed_prerequisite_of_a_string_flag_as_false_like_the_sdk_answer()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        await sdk.CreateFlagAsync("gate", enabled: false);
        var color = await sdk.Owner.PostJsonAsync(sdk.Flags, new
        {
            name = "Color", key = "color", value_type = "string", enabled = true,
            variants = new object[] { new { key = "blue", value = "blue" }, new { key = "red", value = "red" } },
            serve = new { variant = "red" }, off_variant = "blue",
        });
        var colorId = await TeamScenario.Created(color);
        (await sdk.Owner.PutJsonAsync($"/api/projects/{sdk.ProjectId}/environments/production/flags/{colorId}",
            new { prerequisites = new[] { new { flag = "gate" } } })).EnsureSuccessStatusCode();
        var client = app.CreateClient();
        const int Calls = 5;
        for (var i = 0; i < Calls; i++)
        {
            var answer = (await sdk.EvaluateAsync(client, new { user_id = $"u{i}" }))["color"]!;
            (answer["enabled"]!.GetValue<bool>(), answer["reason"]!.GetValue<string>()).Should().Be((false, "prerequisite_failed"));
        }

        JsonObject? stats = null;
        (await Eventually.TrueAsync(async () =>
        {
            stats = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{colorId}/stats?interval=hour")).ReadObjectAsync();
            return stats["totals"]!["total"]!.GetValue<long>() == Calls;
        })).Should().BeTrue(stats?.ToJsonString());

        var totals = stats!["totals"]!;
        (totals["true"]!.GetValue<long>(), totals["false"]!.GetValue<long>()).Should().Be((0, Calls), "the SDK answered enabled: false every time");
        totals["by_reason"]!["prerequisite_failed"]!.GetValue<long>().Should().Be(Calls);
        totals["by_variant"]!["blue"]!.GetValue<long>().Should().Be(Calls);
    }

    [Fact]
    public async Task Evaluations_of_a_user_give_the_latest_result_and_time()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("beta", rollout: 100);
        var client = app.CreateClient();
        var before = DateTime.UtcNow;
        await sdk.EvaluateAsync(client, new { user_id = "user_7" });
        (await sdk.Owner.PostAsync($"{sdk.Flags}/{flag}/toggle", null)).EnsureSuccessStatusCode();
        await sdk.EvaluateAsync(client, new { user_id = "user_7" });
        await sdk.EvaluateAsync(client, new { user_email = " Mixed@Example.com " });

        JsonObject? latest = null;
        (await SdkScenario.EventuallyAsync(async () =>
        {
            var response = await sdk.Owner.GetAsync($"{sdk.Flags}/{flag}/evaluations?user=user_7");
            if (response.StatusCode != HttpStatusCode.OK) return false;
            latest = await response.ReadObjectAsync();
            return latest["reason"]!.GetValue<string>() == "disabled";
        }, TimeSpan.FromSeconds(10))).Should().BeTrue(latest?.ToJsonString());

        latest!["enabled"]!.GetValue<bool>().Should().BeFalse();
        latest["flag_key"]!.GetValue<string>().Should().Be("beta");
        latest["evaluated_at"]!.GetValue<DateTime>().ToUniversalTime().Should().BeOnOrAfter(before.AddSeconds(-1)).And.BeOnOrBefore(DateTime.UtcNow);

        (await SdkScenario.EventuallyAsync(async () =>
            (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag}/evaluations?user=mixed@example.com")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10))).Should().BeTrue("an email identifier is trimmed and lower-cased");
        await (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag}/evaluations?user=never_seen")).ShouldBeProblemAsync(404);
        await (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag}/evaluations")).ShouldBeValidationErrorAsync("user", "is required");

        var intruder = await app.AuthenticatedClientAsync();
        await (await intruder.GetAsync($"{sdk.Flags}/{flag}/evaluations?user=user_7")).ShouldBeProblemAsync(404);
        await (await intruder.GetAsync($"{sdk.Flags}/{flag}/stats")).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Stats_validate_their_parameters()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("f");
        var url = $"{sdk.Flags}/{flag}/stats";
        await (await sdk.Owner.GetAsync($"{url}?interval=week")).ShouldBeValidationErrorAsync("interval", "minute, hour, day");
        await (await sdk.Owner.GetAsync($"{url}?from=yesterday")).ShouldBeValidationErrorAsync("from", "RFC 3339");
        await (await sdk.Owner.GetAsync($"{url}?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z")).ShouldBeValidationErrorAsync("from", "before to");
        await (await sdk.Owner.GetAsync($"{url}?interval=minute&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z")).ShouldBeValidationErrorAsync("interval", "buckets");
        var day = await (await sdk.Owner.GetAsync($"{url}?interval=day&from=2026-01-01T00:00:00Z&to=2026-01-08T00:00:00Z")).ReadObjectAsync();
        day["buckets"]!.AsArray().Should().HaveCount(7);
        day["totals"]!["total"]!.GetValue<long>().Should().Be(0);
    }

    [Fact]
    public async Task Graceful_shutdown_flushes_pending_counts()
    {
        await using var database = await TestDatabase.CreateAsync();
        var factory = new FlagServiceFactory(database.ConnectionString,
            new Dictionary<string, string?> { ["Analytics:FlushIntervalMilliseconds"] = "10000" });
        var client = factory.CreateClient();
        var token = await client.RegisterAndLoginAsync(Api.UniqueEmail());
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var project = await client.CreateProjectAsync();
        (await client.PostJsonAsync($"/api/projects/{project["id"]}/flags", new { name = "f", key = "f", enabled = true, rollout_percentage = 100 }))
            .EnsureSuccessStatusCode();
        for (var i = 0; i < 25; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/evaluate") { Content = new StringContent($"{{\"user_id\":\"u{i}\"}}", System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("X-SDK-Key", project["sdk_key"]!.GetValue<string>());
            (await client.SendAsync(request)).EnsureSuccessStatusCode();
        }

        await factory.DisposeAsync();

        await using var db = new NpgsqlConnection(database.ConnectionString);
        (await db.ExecuteScalarAsync<long>("SELECT COALESCE(sum(count), 0) FROM flag_evaluation_counts")).Should().Be(25);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM evaluation_contexts")).Should().Be(25);
    }
}
