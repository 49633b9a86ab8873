using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Flags;

public sealed class PrerequisiteTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static async Task<HttpResponseMessage> RequireAsync(SdkScenario sdk, string flagId, object prerequisites, string env = "production") =>
        await sdk.Owner.PutJsonAsync($"/api/projects/{sdk.ProjectId}/environments/{env}/flags/{flagId}", new { prerequisites });

    [Fact]
    public async Task Flag_serves_its_off_variant_until_its_prerequisite_serves_the_variant_required()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var payments = await sdk.CreateFlagAsync("new_payments", enabled: false, rollout: 100);
        var checkout = await sdk.CreateFlagAsync("new_checkout", enabled: true, rollout: 100);

        var response = await RequireAsync(sdk, checkout, new[] { new { flag = "new_payments" } });
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await response.ReadObjectAsync())["prerequisites"]!.ToJsonString().Should().Be("""[{"flag":"new_payments","variant":"on"}]""");

        var client = app.CreateClient();
        (await sdk.EvaluateAsync(client, new { user_id = "u1" }))["new_checkout"]!.ToJsonString()
            .Should().Be("""{"enabled":false,"reason":"prerequisite_failed","variant":"off","value":false}""");
        (await sdk.Owner.PostAsync($"{sdk.Flags}/{payments}/toggle", null)).EnsureSuccessStatusCode();
        (await sdk.EvaluateAsync(client, new { user_id = "u1" }))["new_checkout"]!["reason"]!.GetValue<string>().Should().Be("rollout");

        // Per environment: staging has no prerequisite.
        (await sdk.Owner.GetAsync($"/api/projects/{sdk.ProjectId}/environments/staging/flags/{checkout}")).EnsureSuccessStatusCode();
        var staging = await (await sdk.Owner.GetAsync($"/api/projects/{sdk.ProjectId}/environments/staging/flags/{checkout}")).ReadObjectAsync();
        staging["prerequisites"]!.AsArray().Should().BeEmpty();

        // OFREP says so too.
        (await sdk.Owner.PostAsync($"{sdk.Flags}/{payments}/toggle", null)).EnsureSuccessStatusCode();
        var request = new HttpRequestMessage(HttpMethod.Post, "/ofrep/v1/evaluate/flags/new_checkout") { Content = JsonContent.Create(new { context = new { targetingKey = "u1" } }) };
        request.Headers.Add("X-API-Key", sdk.SdkKey);
        var ofrep = await (await client.SendAsync(request)).ReadObjectAsync();
        (ofrep["value"]!.GetValue<bool>(), ofrep["reason"]!.GetValue<string>()).Should().Be((false, "PREREQUISITE_FAILED"));

        (await (await RequireAsync(sdk, checkout, Array.Empty<object>())).ReadObjectAsync())["prerequisites"]!.AsArray().Should().BeEmpty();
        (await sdk.EvaluateAsync(client, new { user_id = "u1" }))["new_checkout"]!["reason"]!.GetValue<string>().Should().Be("rollout");
    }

    [Fact]
    public async Task Multivariate_prerequisite_names_a_variant()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        (await sdk.Owner.PostJsonAsync(sdk.Flags, new
        {
            name = "Tier", key = "tier", value_type = "string", enabled = true,
            variants = new object[] { new { key = "basic", value = "basic" }, new { key = "gold", value = "gold" } },
            serve = new { variant = "basic" },
        })).EnsureSuccessStatusCode();
        var perk = await sdk.CreateFlagAsync("perk", enabled: true, rollout: 100);

        await (await RequireAsync(sdk, perk, new[] { new { flag = "tier" } })).ShouldBeValidationErrorAsync("prerequisites[0].variant", "is required");
        await (await RequireAsync(sdk, perk, new[] { new { flag = "tier", variant = "platinum" } })).ShouldBeValidationErrorAsync("prerequisites[0].variant", "platinum");
        (await RequireAsync(sdk, perk, new[] { new { flag = "tier", variant = "gold" } })).EnsureSuccessStatusCode();

        var client = app.CreateClient();
        (await sdk.EvaluateAsync(client, new { user_id = "u1" }))["perk"]!["reason"]!.GetValue<string>().Should().Be("prerequisite_failed");
        var tier = (await (await sdk.Owner.GetAsync(sdk.Flags)).ReadAsync<JsonArray>()).Single(f => f!["key"]!.GetValue<string>() == "tier")!["id"]!.GetValue<string>();
        (await sdk.Owner.PutJsonAsync($"{sdk.Flags}/{tier}", new { serve = new { variant = "gold" } })).EnsureSuccessStatusCode();
        (await sdk.EvaluateAsync(client, new { user_id = "u1" }))["perk"]!["reason"]!.GetValue<string>().Should().Be("rollout");

        // gold is required by perk: it cannot be removed from tier's variants.
        var refused = await sdk.Owner.PutJsonAsync($"{sdk.Flags}/{tier}", new { variants = new object[] { new { key = "basic", value = "basic" } }, serve = new { variant = "basic" } });
        (await refused.ShouldBeProblemAsync(409))["detail"]!.GetValue<string>().Should().Contain("prerequisite of perk");
    }

    [Fact]
    public async Task Unknown_flags_cycles_and_deep_chains_are_refused_naming_the_chain()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var ids = new List<string>();
        for (var i = 0; i <= 11; i++)
        {
            ids.Add(await sdk.CreateFlagAsync($"f{i:D2}", enabled: true, rollout: 100));
        }

        await (await RequireAsync(sdk, ids[0], new[] { new { flag = "nope" } })).ShouldBeValidationErrorAsync("prerequisites[0].flag", "names no flag");
        await (await RequireAsync(sdk, ids[0], new[] { new { flag = "f00" } })).ShouldBeValidationErrorAsync("prerequisites[0].flag", "itself");
        await (await RequireAsync(sdk, ids[0], new[] { new { flag = "f01" }, new { flag = "f01" } })).ShouldBeValidationErrorAsync("prerequisites[1].flag", "twice");

        // f00 → f01 → ... → f10: ten hops are fine; f10 → f11 would be eleven.
        for (var i = 0; i < 10; i++)
        {
            (await RequireAsync(sdk, ids[i], new[] { new { flag = $"f{i + 1:D2}" } })).EnsureSuccessStatusCode();
        }
        await (await RequireAsync(sdk, ids[10], new[] { new { flag = "f11" } }))
            .ShouldBeValidationErrorAsync("prerequisites", "more than 10 prerequisites: f00 → f01 → f02 → f03 → f04 → f05 → f06 → f07 → f08 → f09 → f10 → f11");
        await (await RequireAsync(sdk, ids[3], new[] { new { flag = "f00" } })).ShouldBeValidationErrorAsync("prerequisites", "cycle: f00 → f01 → f02 → f03 → f00");
        (await RequireAsync(sdk, ids[3], new[] { new { flag = "f00" } }, env: "staging")).StatusCode.Should().Be(HttpStatusCode.OK, "staging has no chain");

        // A required flag cannot be deleted; once nothing requires it, it can.
        var refused = await sdk.Owner.DeleteAsync($"{sdk.Flags}/{ids[10]}");
        (await refused.ShouldBeProblemAsync(409))["required_by"]!.ToJsonString().Should().Be("""[{"flag":"f09","environment":"production"}]""");
        var first = await sdk.Owner.DeleteAsync($"{sdk.Flags}/{ids[0]}");
        (await first.ShouldBeProblemAsync(409))["required_by"]!.ToJsonString().Should().Be("""[{"flag":"f03","environment":"staging"}]""");
        (await RequireAsync(sdk, ids[3], Array.Empty<object>(), env: "staging")).EnsureSuccessStatusCode();
        (await sdk.Owner.DeleteAsync($"{sdk.Flags}/{ids[0]}")).StatusCode.Should().Be(HttpStatusCode.NoContent, "f00 required others, which goes with it");
    }

    [Fact]
    public async Task Promotion_copies_prerequisites_and_refuses_a_copy_that_closes_a_cycle()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var a = await sdk.CreateFlagAsync("a", enabled: true, rollout: 100);
        var b = await sdk.CreateFlagAsync("b", enabled: true, rollout: 100);
        (await RequireAsync(sdk, a, new[] { new { flag = "b" } })).EnsureSuccessStatusCode();
        (await RequireAsync(sdk, b, new[] { new { flag = "a" } }, env: "staging")).EnsureSuccessStatusCode();

        var closing = await sdk.Owner.PostJsonAsync($"/api/projects/{sdk.ProjectId}/environments/staging/copy-from/production", new { flag_keys = new[] { "a" } });
        await closing.ShouldBeValidationErrorAsync("flag_keys", "cycle");
        var staging = await (await sdk.Owner.GetAsync($"/api/projects/{sdk.ProjectId}/environments/staging/flags/{a}")).ReadObjectAsync();
        staging["prerequisites"]!.AsArray().Should().BeEmpty("nothing was copied");

        (await sdk.Owner.PostAsync($"/api/projects/{sdk.ProjectId}/environments/staging/copy-from/production", null)).EnsureSuccessStatusCode();
        var copied = await (await sdk.Owner.GetAsync($"/api/projects/{sdk.ProjectId}/environments/staging/flags/{a}")).ReadObjectAsync();
        copied["prerequisites"]!.ToJsonString().Should().Be("""[{"flag":"b","variant":"on"}]""");
    }
}
