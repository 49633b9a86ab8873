using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using FlagService.Features.Analytics;
using FlagService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FlagService.Tests.Sdk;

// "What did user X get for flag F, and when" stays exact while the configuration changes under
// the users, and costs one row per identifier, not per identifier × flag. 80 flags are past the
// count (64) at which evaluation hashes the splitting flags' buckets all at once, so that path is
// read back too; the cost per request at 1 000 flags is bench/ServerBenchmarks' `large` project
// (evaluation, counting and the latest-evaluation entry), not a test's business.
public sealed class LatestEvaluationTests(AppFixture app) : IClassFixture<AppFixture>
{
    private const int FlagCount = 80;

    [Fact]
    public async Task Each_identifier_reads_what_it_was_served_by_the_configuration_it_met()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var ids = new string[FlagCount];
        using (var gate = new SemaphoreSlim(6))
        {
            await Task.WhenAll(Enumerable.Range(0, FlagCount).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    ids[i] = await sdk.CreateFlagAsync($"flag_{i:D4}", rollout: 50);
                    await sdk.AddRuleAsync(ids[i], new { rule_type = "user_id", rule_value = $"user_{i % 50}" });
                }
                finally
                {
                    gate.Release();
                }
            }));
        }
        // An attribute rule and a prerequisite: answers that depend on the context and on another flag.
        await sdk.AddRuleAsync(ids[1], new
        {
            rule_type = "attribute_match", rollout_percentage = 100,
            conditions = new[] { new { attribute = "plan", @operator = "equals", values = new[] { "pro" } } },
        });
        (await sdk.Owner.PutJsonAsync($"/api/projects/{sdk.ProjectId}/environments/production/flags/{ids[2]}",
            new { prerequisites = new[] { new { flag = "flag_0003" } } })).EnsureSuccessStatusCode();

        var client = app.CreateClient();
        var served = new Dictionary<string, JsonObject>();
        async Task EvaluateAsync(int user)
        {
            var context = new { user_id = $"user_{user}", custom_attributes = new { plan = user % 3 == 0 ? "pro" : "free" } };
            served[$"user_{user}"] = await sdk.EvaluateAsync(client, context);
        }

        for (var user = 0; user < 40; user++)
        {
            await EvaluateAsync(user);
        }

        // The configuration changes: a kill switch, a rollout, the attribute rule's audience, the prerequisite.
        (await sdk.Owner.PostAsync($"{sdk.Flags}/{ids[0]}/toggle", null)).EnsureSuccessStatusCode();
        (await sdk.Owner.PutJsonAsync($"{sdk.Flags}/{ids[4]}", new { rollout_percentage = 100 })).EnsureSuccessStatusCode();
        var rules = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{ids[1]}/rules")).ReadAsync<JsonArray>();
        var attributeRule = rules.Single(r => r!["rule_type"]!.GetValue<string>() == "attribute_match")!["id"]!.GetValue<string>();
        (await sdk.Owner.PutJsonAsync($"{sdk.Flags}/{ids[1]}/rules/{attributeRule}",
            new { conditions = new[] { new { attribute = "plan", @operator = "equals", values = new[] { "free" } } } })).EnsureSuccessStatusCode();
        (await sdk.Owner.PostAsync($"{sdk.Flags}/{ids[3]}/toggle", null)).EnsureSuccessStatusCode();
        var before = served["user_25"];
        (await SdkScenario.EventuallyAsync(async () =>
            (await sdk.EvaluateAsync(client, new { user_id = "probe" }))["flag_0000"]!["reason"]!.GetValue<string>() == "disabled",
            Eventually.Patience)).Should().BeTrue("the change reaches the snapshot");

        for (var user = 20; user < 60; user++)
        {
            await EvaluateAsync(user);
        }
        served["user_25"].ToJsonString().Should().NotBe(before.ToJsonString(), "the change moved this user's answers");

        // One flag evaluated alone, later, with another context: that flag reads it, the others the bulk evaluation.
        var ofrep = new HttpRequestMessage(HttpMethod.Post, "/ofrep/v1/evaluate/flags/flag_0001")
        {
            Content = JsonContent.Create(new { context = new { targetingKey = "user_5", plan = "free" } }),
        };
        ofrep.Headers.Add("X-API-Key", sdk.SdkKey);
        var single = await (await client.SendAsync(ofrep)).ReadObjectAsync();

        await app.Factory.Services.GetRequiredService<AnalyticsFlusher>().FlushAsync();

        await using var db = new NpgsqlConnection(app.ConnectionString);
        var environment = await db.ExecuteScalarAsync<Guid>(
            "SELECT id FROM environments WHERE project_id = @project AND is_default", new { project = Guid.Parse(sdk.ProjectId) });
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM evaluation_contexts WHERE environment_id = @environment", new { environment }))
            .Should().Be(60 + 1 + 1, "one row per identifier (the probe too), and one for the flag evaluated alone");
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM configuration_versions WHERE environment_id = @environment", new { environment }))
            .Should().BeInRange(2, 3, "a version per configuration that served someone, not per evaluation");

        async Task ShouldReadAsync(string user, int flag, JsonObject expected)
        {
            var response = await sdk.Owner.GetAsync($"{sdk.Flags}/{ids[flag]}/evaluations?user={user}");
            response.StatusCode.Should().Be(HttpStatusCode.OK, $"{user} was evaluated for flag {flag}");
            var read = await response.ReadObjectAsync();
            (read["enabled"]!.GetValue<bool>(), read["reason"]!.GetValue<string>(), read["variant"]!.GetValue<string>())
                .Should().Be((expected["enabled"]!.GetValue<bool>(), expected["reason"]!.GetValue<string>(), expected["variant"]!.GetValue<string>()),
                    $"{user} reads what it was served by flag_{flag:D4}");
        }

        var sample = Enumerable.Range(0, 12).Concat(Enumerable.Range(0, 8).Select(i => 9 * i + 15)).ToArray();
        foreach (var (user, answers) in served.Where(s => s.Key != "user_5"))
        {
            foreach (var flag in sample)
            {
                await ShouldReadAsync(user, flag, answers[$"flag_{flag:D4}"]!.AsObject());
            }
        }

        // Every flag, for one user evaluated before the change only and one evaluated on both sides.
        foreach (var user in new[] { "user_3", "user_33" })
        {
            using var gate = new SemaphoreSlim(8);
            await Task.WhenAll(Enumerable.Range(0, FlagCount).Select(async flag =>
            {
                await gate.WaitAsync();
                try
                {
                    await ShouldReadAsync(user, flag, served[user][$"flag_{flag:D4}"]!.AsObject());
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        var alone = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{ids[1]}/evaluations?user=user_5")).ReadObjectAsync();
        (alone["variant"]!.GetValue<string>(), alone["enabled"]!.GetValue<bool>()).Should().Be(
            (single["variant"]!.GetValue<string>(), single["value"]!.GetValue<bool>()), "the later evaluation of that flag alone");
        await ShouldReadAsync("user_5", 7, served["user_5"]["flag_0007"]!.AsObject());
    }
}
