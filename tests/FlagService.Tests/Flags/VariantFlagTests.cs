using System.Net;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Flags;

public sealed class VariantFlagTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static object ColorFlag(string key = "checkout_color") => new
    {
        name = "Checkout color", key, value_type = "string", enabled = true,
        variants = new object[]
        {
            new { key = "control", value = "#000", name = "Control" },
            new { key = "blue", value = "#00f" },
            new { key = "green", value = "#0a0", description = "The new one" },
        },
        off_variant = "control",
        serve = new { distribution = new[] { new { variant = "control", weight = 50 }, new { variant = "blue", weight = 25 }, new { variant = "green", weight = 25 } } },
    };

    private static async Task<JsonObject> CreatedAsync(HttpResponseMessage response)
    {
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.ReadObjectAsync();
    }

    [Fact]
    public async Task String_flag_is_created_with_its_variants_and_serves_them_by_weight()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await CreatedAsync(await sdk.Owner.PostJsonAsync(sdk.Flags, ColorFlag()));

        flag["value_type"]!.GetValue<string>().Should().Be("string");
        flag["variants"]!.ToJsonString().Should().Be(
            """[{"key":"control","value":"#000","name":"Control","description":null},{"key":"blue","value":"#00f","name":null,"description":null},{"key":"green","value":"#0a0","name":null,"description":"The new one"}]""");
        flag["off_variant"]!.GetValue<string>().Should().Be("control");
        flag["serve"]!.ToJsonString().Should().Be(
            """{"distribution":[{"variant":"control","weight":50},{"variant":"blue","weight":25},{"variant":"green","weight":25}]}""");
        flag["rollout_percentage"].Should().BeNull("a string flag serves what serve says");
        var staging = await (await sdk.Owner.GetAsync($"/api/projects/{sdk.ProjectId}/environments/staging/flags/{flag["id"]}")).ReadObjectAsync();
        (staging["enabled"]!.GetValue<bool>(), staging["off_variant"]!.GetValue<string>(), staging["serve"]!.ToJsonString())
            .Should().Be((false, "control", """{"variant":"control"}"""), "other environments start off, serving the first variant");

        var client = app.CreateClient();
        var user1 = (await sdk.EvaluateAsync(client, new { user_id = "user_1" }))["checkout_color"]!;
        user1.ToJsonString().Should().Be("""{"enabled":true,"reason":"rollout","variant":"control","value":"#000"}""");
        var user42 = (await sdk.EvaluateAsync(client, new { user_id = "user_42" }))["checkout_color"]!;
        user42.ToJsonString().Should().Be("""{"enabled":true,"reason":"rollout","variant":"green","value":"#0a0"}""");
        var anonymous = (await sdk.EvaluateAsync(client, new { }))["checkout_color"]!;
        anonymous.ToJsonString().Should().Be("""{"enabled":true,"reason":"rollout_excluded","variant":"control","value":"#000"}""");

        (await sdk.Owner.PostAsync($"{sdk.Flags}/{flag["id"]}/toggle", null)).EnsureSuccessStatusCode();
        var off = (await sdk.EvaluateAsync(client, new { user_id = "user_42" }))["checkout_color"]!;
        off.ToJsonString().Should().Be("""{"enabled":false,"reason":"disabled","variant":"control","value":"#000"}""");
    }

    [Fact]
    public async Task Number_and_json_flags_serve_typed_values_and_rules_serve_their_own()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var timeout = await CreatedAsync(await sdk.Owner.PostJsonAsync(sdk.Flags, new
        {
            name = "Timeout", key = "timeout_ms", value_type = "number", enabled = true,
            variants = new object[] { new { key = "short", value = 250 }, new { key = "long", value = 1500.5 } },
            serve = new { variant = "short" },
        }));
        var config = await CreatedAsync(await sdk.Owner.PostJsonAsync(sdk.Flags, new
        {
            name = "Config", key = "config", value_type = "json", enabled = true,
            variants = new object[] { new { key = "v1", value = new { retries = 3, hosts = new[] { "a", "b" } } }, new { key = "none", value = (object?)null } },
        }));
        var rule = await sdk.Owner.PostJsonAsync($"{sdk.Flags}/{timeout["id"]}/rules",
            new { rule_type = "email_domain", rule_value = "@slow.example", serve = new { variant = "long" } });
        (await CreatedAsync(rule))["serve"]!.ToJsonString().Should().Be("""{"variant":"long"}""");

        var client = app.CreateClient();
        var fast = await sdk.EvaluateAsync(client, new { user_email = "a@fast.example" });
        fast["timeout_ms"]!.ToJsonString().Should().Be("""{"enabled":true,"reason":"default","variant":"short","value":250}""");
        fast["config"]!.ToJsonString().Should().Be("""{"enabled":true,"reason":"default","variant":"v1","value":{"retries":3,"hosts":["a","b"]}}""");
        var slow = await sdk.EvaluateAsync(client, new { user_email = "b@slow.example" });
        slow["timeout_ms"]!.ToJsonString().Should().Be("""{"enabled":true,"reason":"rule_match","variant":"long","value":1500.5}""");

        await (await sdk.Owner.PostJsonAsync($"{sdk.Flags}/{timeout["id"]}/rules", new { rule_type = "user_id", rule_value = "u" }))
            .ShouldBeValidationErrorAsync("serve", "required");
        await (await sdk.Owner.PostJsonAsync($"{sdk.Flags}/{timeout["id"]}/rules",
            new { rule_type = "user_id", rule_value = "u", serve = new { variant = "huge" } })).ShouldBeValidationErrorAsync("serve.variant", "huge");
        await (await sdk.Owner.PostJsonAsync($"{sdk.Flags}/{timeout["id"]}/rules",
            new { rule_type = "user_id", rule_value = "u", serve = new { variant = "long" }, rollout_percentage = 50 }))
            .ShouldBeValidationErrorAsync("rollout_percentage", "boolean flags only");
    }

    [Fact]
    public async Task Boolean_flags_take_serve_or_rollout_and_show_both_consistently()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await CreatedAsync(await sdk.Owner.PostJsonAsync(sdk.Flags, new
        {
            name = "B", key = "b", enabled = true,
            serve = new { distribution = new[] { new { variant = "off", weight = 70 }, new { variant = "on", weight = 30 } } },
        }));
        flag["rollout_percentage"]!.GetValue<int>().Should().Be(30);
        flag["serve"]!.ToJsonString().Should().Be("""{"distribution":[{"variant":"on","weight":30},{"variant":"off","weight":70}]}""");
        flag["off_variant"]!.GetValue<string>().Should().Be("off");
        var url = $"{sdk.Flags}/{flag["id"]}";

        var all = await (await sdk.Owner.PutJsonAsync(url, new { serve = new { variant = "on" } })).ReadObjectAsync();
        all["rollout_percentage"]!.GetValue<int>().Should().Be(100);
        var viaRollout = await (await sdk.Owner.PutJsonAsync(url, new { rollout_percentage = 5 })).ReadObjectAsync();
        viaRollout["serve"]!.ToJsonString().Should().Be("""{"distribution":[{"variant":"on","weight":5},{"variant":"off","weight":95}]}""");
        var both = await sdk.Owner.PutJsonAsync(url, new { rollout_percentage = 40, serve = new { distribution = new[] { new { variant = "on", weight = 40 }, new { variant = "off", weight = 60 } } } });
        both.StatusCode.Should().Be(HttpStatusCode.OK);

        await (await sdk.Owner.PutJsonAsync(url, new { rollout_percentage = 40, serve = new { variant = "on" } })).ShouldBeValidationErrorAsync("serve", "rollout_percentage says 40");
        await (await sdk.Owner.PutJsonAsync(url, new { off_variant = "on" })).ShouldBeValidationErrorAsync("off_variant", "always off");
        await (await sdk.Owner.PutJsonAsync(url, new { variants = new[] { new { key = "yes", value = true } } })).ShouldBeValidationErrorAsync("variants", "on (true) and off (false)");
        var renamed = await (await sdk.Owner.PutJsonAsync(url, new
        {
            variants = new object[] { new { key = "off", value = false, name = "Hidden" }, new { key = "on", value = true, name = "Shown" } },
        })).ReadObjectAsync();
        renamed["variants"]!.AsArray().Select(v => (v!["key"]!.GetValue<string>(), v["name"]!.GetValue<string>())).Should().Equal(("on", "Shown"), ("off", "Hidden"));

        var rule = await CreatedAsync(await sdk.Owner.PostJsonAsync($"{url}/rules", new { rule_type = "user_id", rule_value = "u1", serve = new { variant = "off" } }));
        rule["rollout_percentage"]!.GetValue<int>().Should().Be(0);
        rule["serve"]!.ToJsonString().Should().Be("""{"distribution":[{"variant":"on","weight":0},{"variant":"off","weight":100}]}""");
        var client = app.CreateClient();
        (await sdk.EvaluateAsync(client, new { user_id = "u1" }))["b"]!.ToJsonString()
            .Should().Be("""{"enabled":false,"reason":"rule_match","variant":"off","value":false}""");
    }

    [Fact]
    public async Task Invalid_variants_and_serves_are_refused_naming_the_field()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        object Body(object? variants = null, object? serve = null, string type = "string", string? off = null, int? rollout = null) =>
            new { name = "X", key = "x", value_type = type, variants, serve, off_variant = off, rollout_percentage = rollout };
        var two = new object[] { new { key = "a", value = "A" }, new { key = "b", value = "B" } };

        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body())).ShouldBeValidationErrorAsync("variants", "required");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: Array.Empty<object>()))).ShouldBeValidationErrorAsync("variants", "1 to 100");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: Enumerable.Range(0, 101).Select(i => new { key = $"v{i}", value = "x" }).ToArray())))
            .ShouldBeValidationErrorAsync("variants", "1 to 100");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(type: "text"))).ShouldBeValidationErrorAsync("value_type", "must be one of");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: new object[] { new { key = "a", value = 1 } })))
            .ShouldBeValidationErrorAsync("variants[0].value", "must be a string");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(type: "number", variants: new object[] { new { key = "a", value = "1" } })))
            .ShouldBeValidationErrorAsync("variants[0].value", "must be a number");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: new object[] { new { key = "a" } })))
            .ShouldBeValidationErrorAsync("variants[0].value", "required");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: new object[] { new { key = "a", value = "A" }, new { key = "a", value = "B" } })))
            .ShouldBeValidationErrorAsync("variants[1].key", "duplicates");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: new object[] { new { key = "Bad Key", value = "A" } })))
            .ShouldBeValidationErrorAsync("variants[0].key", "must match");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(type: "json", variants: new object[] { new { key = "big", value = new { blob = new string('x', 8200) } } })))
            .ShouldBeValidationErrorAsync("variants[0].value", "8192 bytes");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: two, serve: new { variant = "c" }))).ShouldBeValidationErrorAsync("serve.variant", "'c'");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: two, off: "c"))).ShouldBeValidationErrorAsync("off_variant", "'c'");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: two, rollout: 10))).ShouldBeValidationErrorAsync("rollout_percentage", "boolean flags only");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: two, serve: new { variant = "a", distribution = new[] { new { variant = "a", weight = 100 } } })))
            .ShouldBeValidationErrorAsync("serve", "exactly one of");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: two, serve: new { distribution = new[] { new { variant = "a", weight = 60 }, new { variant = "b", weight = 30 } } })))
            .ShouldBeValidationErrorAsync("serve.distribution", "sum to 100 (they sum to 90)");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: two, serve: new { distribution = new[] { new { variant = "a", weight = 110 }, new { variant = "b", weight = -10 } } })))
            .ShouldBeValidationErrorAsync("serve.distribution[1].weight", "at least 0");
        await (await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: two, serve: new { distribution = new[] { new { variant = "a", weight = 50 }, new { variant = "a", weight = 50 } } })))
            .ShouldBeValidationErrorAsync("serve.distribution[1].variant", "twice");
        await (await sdk.Owner.PostRawAsync(sdk.Flags, """{"name":"X","key":"x","value_type":"string","variants":[{"key":"a","value":"A"}],"serve":{"distribution":[{"variant":"a","weight":"100"}]}}"""))
            .ShouldBeValidationErrorAsync("serve.distribution[0].weight", "integer");

        (await (await sdk.Owner.GetAsync(sdk.Flags)).ReadAsync<JsonArray>()).Should().BeEmpty("nothing refused was written");

        var flag = await CreatedAsync(await sdk.Owner.PostJsonAsync(sdk.Flags, Body(variants: two)));
        await (await sdk.Owner.PutJsonAsync($"{sdk.Flags}/{flag["id"]}", new { value_type = "number", name = "Y" }))
            .ShouldBeValidationErrorAsync("value_type", "cannot be changed");
    }

    [Fact]
    public async Task Update_adds_revalues_and_removes_variants_but_not_one_still_served()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await CreatedAsync(await sdk.Owner.PostJsonAsync(sdk.Flags, ColorFlag()));
        var url = $"{sdk.Flags}/{flag["id"]}";
        var stagingUrl = $"/api/projects/{sdk.ProjectId}/environments/staging/flags/{flag["id"]}";
        (await sdk.Owner.PostJsonAsync($"{stagingUrl}/rules", new { rule_type = "user_id", rule_value = "vip", serve = new { variant = "green" } }))
            .EnsureSuccessStatusCode();

        // green is served by production's distribution and by a staging rule.
        var refused = await sdk.Owner.PutJsonAsync(url, new { variants = new object[] { new { key = "control", value = "#000" }, new { key = "blue", value = "#00f" } } });
        var problem = await refused.ShouldBeProblemAsync(409);
        var places = problem["errors"]!["variants"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
        places.Should().Contain(p => p.Contains("'green' as serve in 'production'"));
        places.Should().Contain(p => p.Contains("'green' by rule") && p.Contains("in 'staging'"));
        (await (await sdk.Owner.GetAsync(url)).ReadObjectAsync())["variants"]!.AsArray().Should().HaveCount(3, "nothing was changed");

        // Re-value blue, add purple, and drop green where it was served, in two steps.
        (await sdk.Owner.PutJsonAsync($"{stagingUrl}/rules/{(await (await sdk.Owner.GetAsync($"{stagingUrl}/rules")).ReadAsync<JsonArray>())[0]!["id"]}",
            new { serve = new { variant = "blue" } })).EnsureSuccessStatusCode();
        var updated = await sdk.Owner.PutJsonAsync(url, new
        {
            variants = new object[] { new { key = "control", value = "#111" }, new { key = "blue", value = "#00f" }, new { key = "purple", value = "#808" } },
            serve = new { distribution = new[] { new { variant = "control", weight = 50 }, new { variant = "purple", weight = 50 } } },
        });
        updated.StatusCode.Should().Be(HttpStatusCode.OK, await updated.Content.ReadAsStringAsync());
        var body = await updated.ReadObjectAsync();
        body["variants"]!.AsArray().Select(v => v!["key"]!.GetValue<string>()).Should().Equal("control", "blue", "purple");

        var client = app.CreateClient();
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => sdk.EvaluateAsync(client, new { user_id = $"u{i}" })));
        answers.Select(a => a["checkout_color"]!["variant"]!.GetValue<string>()).Distinct().Should().BeEquivalentTo(["control", "purple"]);
        answers.Where(a => a["checkout_color"]!["variant"]!.GetValue<string>() == "control")
            .Should().AllSatisfy(a => a["checkout_color"]!["value"]!.GetValue<string>().Should().Be("#111"));
    }

    [Fact]
    public async Task AB_test_exposures_are_counted_by_variant()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await CreatedAsync(await sdk.Owner.PostJsonAsync(sdk.Flags, ColorFlag("ab")));
        var client = app.CreateClient();
        var served = new Dictionary<string, long>();
        for (var i = 0; i < 60; i++)
        {
            var variant = (await sdk.EvaluateAsync(client, new { user_id = $"visitor_{i}" }))["ab"]!["variant"]!.GetValue<string>();
            served[variant] = served.GetValueOrDefault(variant) + 1;
        }

        JsonObject? stats = null;
        (await SdkScenario.EventuallyAsync(async () =>
        {
            stats = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag["id"]}/stats?interval=minute&from={DateTime.UtcNow.AddMinutes(-5):O}")).ReadObjectAsync();
            return stats["totals"]!["total"]!.GetValue<long>() == 60;
        }, TimeSpan.FromSeconds(10))).Should().BeTrue(stats?.ToJsonString());

        stats!["totals"]!["by_variant"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<long>()).Should().BeEquivalentTo(served);
        stats["totals"]!["true"]!.GetValue<long>().Should().Be(60, "an enabled multivariate flag counts as on whatever it serves");
        stats["buckets"]!.AsArray().Sum(b => b!["by_variant"]!.AsObject().Sum(v => v.Value!.GetValue<long>())).Should().Be(60);

        var one = "visitor_7";
        (await SdkScenario.EventuallyAsync(async () =>
            (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag["id"]}/evaluations?user={one}")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10)))
            .Should().BeTrue();
        var latest = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag["id"]}/evaluations?user={one}")).ReadObjectAsync();
        var expected = (await sdk.EvaluateAsync(client, new { user_id = one }))["ab"]!["variant"]!.GetValue<string>();
        latest["variant"]!.GetValue<string>().Should().Be(expected);
    }

    [Fact]
    public async Task Promotion_copies_what_a_multivariate_flag_serves()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await CreatedAsync(await sdk.Owner.PostJsonAsync(sdk.Flags, ColorFlag("promoted")));
        (await sdk.Owner.PostJsonAsync($"{sdk.Flags}/{flag["id"]}/rules", new { rule_type = "user_id", rule_value = "vip", serve = new { variant = "green" } }))
            .EnsureSuccessStatusCode();

        (await sdk.Owner.PostAsync($"/api/projects/{sdk.ProjectId}/environments/staging/copy-from/production", null)).EnsureSuccessStatusCode();
        (await sdk.Owner.PostJsonAsync($"/api/projects/{sdk.ProjectId}/environments", new { key = "qa", name = "QA", copy_from = "production" })).EnsureSuccessStatusCode();

        foreach (var env in new[] { "staging", "qa" })
        {
            var copy = await (await sdk.Owner.GetAsync($"/api/projects/{sdk.ProjectId}/environments/{env}/flags/{flag["id"]}")).ReadObjectAsync();
            copy["serve"]!.ToJsonString().Should().Be(flag["serve"]!.ToJsonString(), env);
            copy["off_variant"]!.GetValue<string>().Should().Be("control");
            var rules = await (await sdk.Owner.GetAsync($"/api/projects/{sdk.ProjectId}/environments/{env}/flags/{flag["id"]}/rules")).ReadAsync<JsonArray>();
            rules.Single()!["serve"]!.ToJsonString().Should().Be("""{"variant":"green"}""");
        }
    }
}
