using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Environments;

// What the SDK side sees of environments: each environment's keys evaluate that environment only,
// the project's key may name another one, analytics are kept apart.
public sealed class EnvironmentSdkTests(AppFixture app) : IClassFixture<AppFixture>
{
    private sealed record Keys(string Production, string Staging, string StagingServer);

    private static async Task<Keys> KeysAsync(SdkScenario sdk)
    {
        var environments = await (await sdk.Owner.GetAsync($"/api/projects/{sdk.ProjectId}/environments")).ReadAsync<JsonArray>();
        string Key(string env, string field) => environments.Single(e => e!["key"]!.GetValue<string>() == env)![field]!.GetValue<string>();
        return new Keys(Key("production", "sdk_key"), Key("staging", "sdk_key"), Key("staging", "server_key"));
    }

    private string Staging(SdkScenario sdk) => $"/api/projects/{sdk.ProjectId}/environments/staging/flags";

    [Fact]
    public async Task Each_environments_key_evaluates_that_environment_only()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("dark_mode", enabled: true, rollout: 100);
        var keys = await KeysAsync(sdk);
        var client = app.CreateClient();
        keys.Production.Should().Be(sdk.SdkKey);

        var staging = await (await sdk.EvaluateRawAsync(client, new { user_id = "u1" }, keys.Staging)).ReadObjectAsync();
        staging["dark_mode"]!["enabled"]!.GetValue<bool>().Should().BeFalse();
        staging["dark_mode"]!["reason"]!.GetValue<string>().Should().Be("disabled");

        (await sdk.Owner.PostAsync($"{Staging(sdk)}/{flag}/toggle", null)).EnsureSuccessStatusCode();
        (await sdk.Owner.PostJsonAsync($"{Staging(sdk)}/{flag}/rules", new { rule_type = "user_id", rule_value = "u1" })).EnsureSuccessStatusCode();

        var stagingAfter = await (await sdk.EvaluateRawAsync(client, new { user_id = "u1" }, keys.Staging)).ReadObjectAsync();
        stagingAfter["dark_mode"]!["reason"]!.GetValue<string>().Should().Be("rule_match");
        var viaServerKey = await (await sdk.EvaluateRawAsync(client, new { user_id = "u1" }, keys.StagingServer)).ReadObjectAsync();
        viaServerKey.ToJsonString().Should().Be(stagingAfter.ToJsonString(), "the server key reaches the same environment");
        var production = await sdk.EvaluateAsync(client, new { user_id = "u1" });
        production.ToJsonString().Should().Be("""{"dark_mode":{"enabled":true,"reason":"rollout","variant":"on","value":true}}""",
            "production's state and rules are untouched by staging's");
    }

    [Fact]
    public async Task Project_key_names_another_environment_in_the_enveloped_body()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("beta", enabled: false);
        (await sdk.Owner.PutJsonAsync($"{Staging(sdk)}/{flag}", new { enabled = true, rollout_percentage = 100 })).EnsureSuccessStatusCode();
        var keys = await KeysAsync(sdk);
        var client = app.CreateClient();

        var named = await sdk.EvaluateAsync(client, new { environment = "staging", context = new { user_id = "u1" } });
        named.ToJsonString().Should().Be("""{"environment":"staging","flags":{"beta":{"enabled":true,"reason":"rollout","variant":"on","value":true}}}""");
        var own = await sdk.EvaluateAsync(client, new { context = new { user_email = "a@example.com" } });
        own["environment"]!.GetValue<string>().Should().Be("production");
        own["flags"]!["beta"]!["reason"]!.GetValue<string>().Should().Be("disabled");
        var flat = await sdk.EvaluateAsync(client, new { user_id = "u1" });
        flat.ToJsonString().Should().Be("""{"beta":{"enabled":false,"reason":"disabled","variant":"off","value":false}}""", "the flat v1 body keeps its shape");

        var unknown = await sdk.EvaluateRawAsync(client, new { environment = "nope", context = new { user_id = "u1" } });
        (await unknown.ShouldBeProblemAsync(404))["detail"]!.GetValue<string>().Should().Contain("nope");
        var fromStaging = await sdk.EvaluateRawAsync(client, new { environment = "production", context = new { } }, keys.Staging);
        await fromStaging.ShouldBeProblemAsync(403);
        var stagingItself = await sdk.EvaluateRawAsync(client, new { environment = "staging", context = new { } }, keys.Staging);
        stagingItself.StatusCode.Should().Be(HttpStatusCode.OK);

        await (await sdk.EvaluateRawAsync(client, new { user_id = "u1", context = new { user_id = "u2" } })).ShouldBeValidationErrorAsync("body", "either");
        await (await sdk.EvaluateRawAsync(client, new { environment = 5 })).ShouldBeValidationErrorAsync("environment", "string");
        await (await sdk.EvaluateRawAsync(client, new { context = "u1" })).ShouldBeValidationErrorAsync("context", "object");
        await (await sdk.EvaluateRawAsync(client, new { context = new { user_id = 5 } })).ShouldBeValidationErrorAsync("context.user_id", "string");
    }

    [Fact]
    public async Task Ofrep_evaluates_the_environment_of_its_key()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("ofrep_flag", enabled: true, rollout: 100);
        (await sdk.Owner.PostAsync($"{Staging(sdk)}/{flag}/toggle", null)).EnsureSuccessStatusCode(); // staging: on at 0 %
        var keys = await KeysAsync(sdk);
        var client = app.CreateClient();

        async Task<JsonObject> Ofrep(string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/ofrep/v1/evaluate/flags/ofrep_flag")
            {
                Content = JsonContent.Create(new { context = new { targetingKey = "u1" } }),
            };
            request.Headers.Add("X-API-Key", key);
            var response = await client.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            return await response.ReadObjectAsync();
        }

        (await Ofrep(keys.Production))["value"]!.GetValue<bool>().Should().BeTrue();
        (await Ofrep(keys.Staging))["value"]!.GetValue<bool>().Should().BeFalse();
    }

    [Fact]
    public async Task Analytics_are_kept_per_environment()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("counted", enabled: true, rollout: 100);
        var keys = await KeysAsync(sdk);
        var client = app.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            await sdk.EvaluateAsync(client, new { user_id = "u1" });
        }
        (await sdk.EvaluateRawAsync(client, new { user_id = "u1" }, keys.Staging)).EnsureSuccessStatusCode();
        (await sdk.EvaluateRawAsync(client, new { user_id = "u2" }, keys.Staging)).EnsureSuccessStatusCode();

        string Stats(string? env) => $"{sdk.Flags}/{flag}/stats?interval=hour" + (env is null ? "" : $"&environment={env}");
        JsonObject? staging = null;
        (await Eventually.TrueAsync(async () =>
        {
            staging = await (await sdk.Owner.GetAsync(Stats("staging"))).ReadObjectAsync();
            return staging["totals"]!["total"]!.GetValue<long>() == 2;
        }, TimeSpan.FromSeconds(10))).Should().BeTrue(staging?.ToJsonString());
        staging!["environment"]!.GetValue<string>().Should().Be("staging");
        staging["totals"]!["by_reason"]!["disabled"]!.GetValue<long>().Should().Be(2);
        staging["totals"]!["by_variant"]!["off"]!.GetValue<long>().Should().Be(2);

        (await Eventually.TrueAsync(async () =>
            (await (await sdk.Owner.GetAsync(Stats(null))).ReadObjectAsync())["totals"]!["total"]!.GetValue<long>() == 3,
            TimeSpan.FromSeconds(10))).Should().BeTrue("the default environment counts its own 3");
        var production = await (await sdk.Owner.GetAsync(Stats("production"))).ReadObjectAsync();
        production["totals"]!["true"]!.GetValue<long>().Should().Be(3);

        (await Eventually.TrueAsync(async () =>
            (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag}/evaluations?user=u2&environment=staging")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10))).Should().BeTrue();
        var u2 = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag}/evaluations?user=u2&environment=staging")).ReadObjectAsync();
        (u2["enabled"]!.GetValue<bool>(), u2["reason"]!.GetValue<string>(), u2["variant"]!.GetValue<string>(), u2["environment"]!.GetValue<string>())
            .Should().Be((false, "disabled", "off", "staging"));
        await (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag}/evaluations?user=u2")).ShouldBeProblemAsync(404);
        await (await sdk.Owner.GetAsync(Stats("nope"))).ShouldBeProblemAsync(404);
        await (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag}/evaluations?user=u1&environment=nope")).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Regenerated_environment_keys_stop_at_once_and_the_new_ones_work()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        await sdk.CreateFlagAsync("f");
        var keys = await KeysAsync(sdk);
        var client = app.CreateClient();
        (await sdk.EvaluateRawAsync(client, null, keys.Staging)).EnsureSuccessStatusCode();

        var rotated = await (await sdk.Owner.PostAsync($"/api/projects/{sdk.ProjectId}/environments/staging/regenerate-keys", null)).ReadObjectAsync();

        await (await sdk.EvaluateRawAsync(client, null, keys.Staging)).ShouldBeProblemAsync(401);
        await (await sdk.EvaluateRawAsync(client, null, keys.StagingServer)).ShouldBeProblemAsync(401);
        (await sdk.EvaluateRawAsync(client, null, rotated["sdk_key"]!.GetValue<string>())).StatusCode.Should().Be(HttpStatusCode.OK);
        (await sdk.EvaluateRawAsync(client, null, keys.Production)).StatusCode.Should().Be(HttpStatusCode.OK, "production keeps its key");
    }

    [Fact]
    public async Task Deleted_environments_key_stops_working()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var keys = await KeysAsync(sdk);
        var client = app.CreateClient();
        (await sdk.EvaluateRawAsync(client, null, keys.Staging)).EnsureSuccessStatusCode();

        (await sdk.Owner.DeleteAsync($"/api/projects/{sdk.ProjectId}/environments/staging")).EnsureSuccessStatusCode();

        await (await sdk.EvaluateRawAsync(client, null, keys.Staging)).ShouldBeProblemAsync(401);
        await (await sdk.EvaluateRawAsync(client, new { environment = "staging", context = new { } })).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Change_in_one_environment_reaches_a_second_instance_at_once_and_only_there()
    {
        await using var instanceB = new FlagServiceFactory(app.ConnectionString);
        var clientB = instanceB.CreateClient();
        await instanceB.ListeningAsync();
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("shared", enabled: true, rollout: 100);
        var keys = await KeysAsync(sdk);
        (await sdk.EvaluateRawAsync(clientB, null, keys.Staging)).EnsureSuccessStatusCode();
        (await sdk.EvaluateAsync(clientB))["shared"]!["enabled"]!.GetValue<bool>().Should().BeTrue();

        (await sdk.Owner.PutJsonAsync($"{Staging(sdk)}/{flag}", new { enabled = true, rollout_percentage = 100 })).EnsureSuccessStatusCode();

        (await Eventually.TrueAsync(async () =>
            (await (await sdk.EvaluateRawAsync(clientB, null, keys.Staging)).ReadObjectAsync())["shared"]!["enabled"]!.GetValue<bool>())).Should().BeTrue("B must drop the project's snapshots when A's change is announced");
        (await sdk.EvaluateAsync(clientB))["shared"]!["enabled"]!.GetValue<bool>().Should().BeTrue("production did not change");

        var rotated = await (await sdk.Owner.PostAsync($"/api/projects/{sdk.ProjectId}/environments/staging/regenerate-keys", null)).ReadObjectAsync();
        (await Eventually.TrueAsync(async () =>
            (await sdk.EvaluateRawAsync(clientB, null, keys.Staging)).StatusCode == HttpStatusCode.Unauthorized)).Should().BeTrue("the old staging key stops on B once B hears of the rotation");
        (await sdk.EvaluateRawAsync(clientB, null, rotated["sdk_key"]!.GetValue<string>())).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
