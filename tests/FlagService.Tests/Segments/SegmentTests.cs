using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Segments;

public sealed class SegmentTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static string Segments(SdkScenario sdk) => $"/api/projects/{sdk.ProjectId}/segments";

    private static async Task<JsonObject> CreatedAsync(HttpResponseMessage response)
    {
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.ReadObjectAsync();
    }

    private static object Beta => new
    {
        key = "beta_testers", name = "Beta testers", description = "Opted in",
        included = new[] { "u2", " u1 ", "u1" }, excluded = new[] { "banned" },
        conditions = new[] { new { attribute = "plan", @operator = "in", values = new[] { "pro", "enterprise" } } },
    };

    [Fact]
    public async Task Create_get_list_update_and_delete_a_segment()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var created = await CreatedAsync(await sdk.Owner.PostJsonAsync(Segments(sdk), Beta));
        created.Select(p => p.Key).Should().Equal("id", "project_id", "key", "name", "description", "included", "excluded", "conditions", "created_at", "updated_at");
        created["included"]!.ToJsonString().Should().Be("""["u1","u2"]""", "trimmed, once each, sorted");
        created["excluded"]!.ToJsonString().Should().Be("""["banned"]""");
        created["conditions"]!.ToJsonString().Should().Be("""[{"attribute":"plan","operator":"in","values":["pro","enterprise"],"negate":false,"ignore_case":false}]""");
        var url = $"{Segments(sdk)}/{created["id"]}";

        (await (await sdk.Owner.GetAsync(url)).ReadObjectAsync())["key"]!.GetValue<string>().Should().Be("beta_testers");
        (await CreatedAsync(await sdk.Owner.PostJsonAsync(Segments(sdk), new { key = "alpha", name = "Alpha" })))["conditions"]!.ToJsonString().Should().Be("[]");
        (await (await sdk.Owner.GetAsync(Segments(sdk))).ReadAsync<JsonArray>()).Select(s => s!["key"]!.GetValue<string>()).Should().Equal("alpha", "beta_testers");

        var updated = await (await sdk.Owner.PutJsonAsync(url, new { name = "Beta", included = new[] { "u9" }, conditions = Array.Empty<object>() })).ReadObjectAsync();
        (updated["name"]!.GetValue<string>(), updated["included"]!.ToJsonString(), updated["excluded"]!.ToJsonString(), updated["conditions"]!.ToJsonString())
            .Should().Be(("Beta", """["u9"]""", """["banned"]""", "[]"));
        await (await sdk.Owner.PutJsonAsync(url, new { key = "other", name = "x" })).ShouldBeValidationErrorAsync("key", "cannot be changed");

        (await sdk.Owner.DeleteAsync(url)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await sdk.Owner.GetAsync(url)).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Lists_change_without_being_resent()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var url = $"{Segments(sdk)}/{(await CreatedAsync(await sdk.Owner.PostJsonAsync(Segments(sdk), Beta)))["id"]}";

        var added = await (await sdk.Owner.PostJsonAsync($"{url}/included", new { add = new[] { "u3", "u1" }, remove = new[] { "u2" } })).ReadObjectAsync();
        added["included"]!.ToJsonString().Should().Be("""["u1","u3"]""");
        var excluded = await (await sdk.Owner.PostJsonAsync($"{url}/excluded", new { remove = new[] { "banned" } })).ReadObjectAsync();
        excluded["excluded"]!.ToJsonString().Should().Be("[]");

        await (await sdk.Owner.PostJsonAsync($"{url}/included", new { })).ShouldBeValidationErrorAsync("body", "add or remove");
        await (await sdk.Owner.PostJsonAsync($"{url}/included", new { add = new[] { "" } })).ShouldBeValidationErrorAsync("add[0]", "non-empty");
        await (await sdk.Owner.PostJsonAsync($"{url}/members", new { add = new[] { "x" } })).ShouldBeProblemAsync(404);
        await (await sdk.Owner.PostJsonAsync($"{Segments(sdk)}/{Guid.NewGuid()}/included", new { add = new[] { "x" } })).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Lists_hold_10000_identifiers_and_no_more()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var ids = Enumerable.Range(0, 10_000).Select(i => $"customer-{i:D6}").ToArray();
        var created = await CreatedAsync(await sdk.Owner.PostJsonAsync(Segments(sdk), new { key = "big", name = "Big", included = ids }));
        created["included"]!.AsArray().Should().HaveCount(10_000);
        var url = $"{Segments(sdk)}/{created["id"]}";

        var over = await sdk.Owner.PostJsonAsync($"{url}/included", new { add = new[] { "one-more" } });
        await over.ShouldBeValidationErrorAsync("add", "at most 10000");
        await (await sdk.Owner.PostJsonAsync(Segments(sdk), new { key = "bigger", name = "B", included = ids.Append("x").ToArray() }))
            .ShouldBeValidationErrorAsync("included", "at most 10000");

        var flag = await sdk.CreateFlagAsync("big_flag", enabled: true, rollout: 0);
        await sdk.AddRuleAsync(flag, new { rule_type = "segment", rule_value = "big" });
        var client = app.CreateClient();
        (await sdk.EvaluateAsync(client, new { user_id = "customer-009999" }))["big_flag"]!["reason"]!.GetValue<string>().Should().Be("rule_match");
        (await sdk.EvaluateAsync(client, new { user_id = "customer-010000" }))["big_flag"]!["reason"]!.GetValue<string>().Should().Be("rollout_excluded");
    }

    [Fact]
    public async Task Invalid_segments_are_refused_with_the_field_named()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        (await sdk.Owner.PostJsonAsync(Segments(sdk), Beta)).EnsureSuccessStatusCode();

        await (await sdk.Owner.PostJsonAsync(Segments(sdk), Beta)).ShouldBeProblemAsync(409);
        await (await sdk.Owner.PostJsonAsync(Segments(sdk), new { key = "Beta", name = "B" })).ShouldBeValidationErrorAsync("key", "must match");
        await (await sdk.Owner.PostJsonAsync(Segments(sdk), new { key = "b" })).ShouldBeValidationErrorAsync("name", "required");
        await (await sdk.Owner.PostJsonAsync(Segments(sdk), new { key = "b", name = "B", conditions = new[] { new { attribute = "plan", @operator = "near", values = new[] { "x" } } } }))
            .ShouldBeValidationErrorAsync("conditions[0].operator", "");
        await (await sdk.Owner.PostJsonAsync(Segments(sdk), new { key = "b", name = "B", included = new[] { new string('x', 1025) } }))
            .ShouldBeValidationErrorAsync("included[0]", "1024");
        await (await sdk.Owner.PostRawAsync(Segments(sdk), """{"key":"b","name":"B","included":"u1"}""")).ShouldBeValidationErrorAsync("included", "array");
        await (await sdk.Owner.GetAsync($"{Segments(sdk)}/not-a-uuid")).ShouldBeValidationErrorAsync("segmentId", "must be a UUID");
        (await (await sdk.Owner.GetAsync(Segments(sdk))).ReadAsync<JsonArray>()).Should().HaveCount(1);
    }

    [Fact]
    public async Task Another_users_segments_are_404_and_unchanged()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var url = $"{Segments(sdk)}/{(await CreatedAsync(await sdk.Owner.PostJsonAsync(Segments(sdk), Beta)))["id"]}";
        var stranger = await app.AuthenticatedClientAsync();

        await (await stranger.GetAsync(Segments(sdk))).ShouldBeProblemAsync(404);
        await (await stranger.PostJsonAsync(Segments(sdk), new { key = "mine", name = "Mine" })).ShouldBeProblemAsync(404);
        await (await stranger.GetAsync(url)).ShouldBeProblemAsync(404);
        await (await stranger.PutJsonAsync(url, new { name = "Mine" })).ShouldBeProblemAsync(404);
        await (await stranger.PostJsonAsync($"{url}/included", new { add = new[] { "me" } })).ShouldBeProblemAsync(404);
        await (await stranger.DeleteAsync(url)).ShouldBeProblemAsync(404);
        var segment = await (await sdk.Owner.GetAsync(url)).ReadObjectAsync();
        (segment["name"]!.GetValue<string>(), segment["included"]!.ToJsonString()).Should().Be(("Beta testers", """["u1","u2"]"""));
    }

    [Fact]
    public async Task Segment_rules_target_members_in_any_flag_and_environment_and_block_deletion()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var segment = await CreatedAsync(await sdk.Owner.PostJsonAsync(Segments(sdk), Beta));
        var a = await sdk.CreateFlagAsync("flag_a", enabled: true, rollout: 0);
        var b = await sdk.CreateFlagAsync("flag_b", enabled: true, rollout: 0);
        await sdk.AddRuleAsync(a, new { rule_type = "segment", rule_value = "beta_testers" });
        (await sdk.Owner.PostJsonAsync($"/api/projects/{sdk.ProjectId}/environments/staging/flags/{b}/rules",
            new { rule_type = "segment", rule_value = "beta_testers" })).EnsureSuccessStatusCode();
        await (await sdk.Owner.PostJsonAsync($"{sdk.Flags}/{b}/rules", new { rule_type = "segment", rule_value = "nope" }))
            .ShouldBeValidationErrorAsync("rule_value", "names no segment");

        var client = app.CreateClient();
        async Task<string> Reason(object context) => (await sdk.EvaluateAsync(client, context))["flag_a"]!["reason"]!.GetValue<string>();
        (await Reason(new { user_id = "u1" })).Should().Be("rule_match", "listed in");
        (await Reason(new { user_id = "banned", custom_attributes = new { plan = "pro" } })).Should().Be("rollout_excluded", "listed out");
        (await Reason(new { user_id = "u7", custom_attributes = new { plan = "pro" } })).Should().Be("rule_match", "matches the conditions");
        (await Reason(new { user_id = "u7", custom_attributes = new { plan = "free" } })).Should().Be("rollout_excluded");

        // A change to the segment reaches evaluation at once.
        (await sdk.Owner.PostJsonAsync($"{Segments(sdk)}/{segment["id"]}/excluded", new { add = new[] { "u1" } })).EnsureSuccessStatusCode();
        (await Reason(new { user_id = "u1" })).Should().Be("rollout_excluded");

        var refused = await sdk.Owner.DeleteAsync($"{Segments(sdk)}/{segment["id"]}");
        var problem = await refused.ShouldBeProblemAsync(409);
        problem["used_by"]!.ToJsonString().Should().Be("""[{"flag":"flag_a","environment":"production"},{"flag":"flag_b","environment":"staging"}]""");
    }

    [Fact]
    public async Task Segment_change_reaches_a_second_instance_within_a_second()
    {
        await using var instanceB = new FlagServiceFactory(app.ConnectionString);
        var clientB = instanceB.CreateClient();
        await instanceB.ListeningAsync();
        var sdk = await SdkScenario.CreateAsync(app);
        var segment = await CreatedAsync(await sdk.Owner.PostJsonAsync(Segments(sdk), new { key = "vip", name = "VIP" }));
        var flag = await sdk.CreateFlagAsync("vip_flag", enabled: true, rollout: 0);
        await sdk.AddRuleAsync(flag, new { rule_type = "segment", rule_value = "vip" });
        (await sdk.EvaluateAsync(clientB, new { user_id = "carol" }))["vip_flag"]!["enabled"]!.GetValue<bool>().Should().BeFalse();

        (await sdk.Owner.PostJsonAsync($"{Segments(sdk)}/{segment["id"]}/included", new { add = new[] { "carol" } })).EnsureSuccessStatusCode();

        (await Eventually.TrueAsync(async () =>
            (await sdk.EvaluateAsync(clientB, new { user_id = "carol" }))["vip_flag"]!["enabled"]!.GetValue<bool>()))
            .Should().BeTrue();
    }
}
