using System.Net;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Streaming;

public sealed class RulesetTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static HttpRequestMessage Get(string? key, string? etag = null, string? origin = null, bool bearer = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/sdk/v1/ruleset");
        if (key is not null && bearer)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }
        else if (key is not null)
        {
            request.Headers.Add("X-SDK-Key", key);
        }
        if (etag is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        }
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        return request;
    }

    [Fact]
    public async Task Ruleset_holds_flags_variants_rules_segments_and_prerequisites_with_ETag_and_304()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        (await sdk.Owner.PostJsonAsync($"/api/projects/{sdk.ProjectId}/segments", new
        {
            key = "beta", name = "Beta", included = new[] { "u2", "u1" }, excluded = new[] { "banned" },
            conditions = new[] { new { attribute = "plan", @operator = "in", values = new[] { "pro" } } },
        })).EnsureSuccessStatusCode();
        (await sdk.Owner.PostJsonAsync(sdk.Flags, new
        {
            name = "Theme", key = "theme", value_type = "string", enabled = true,
            variants = new object[] { new { key = "light", value = "light" }, new { key = "dark", value = "dark" } },
            serve = new { distribution = new object[] { new { variant = "light", weight = 30 }, new { variant = "dark", weight = 70 } } },
            off_variant = "light",
        })).EnsureSuccessStatusCode();
        var checkout = await sdk.CreateFlagAsync("checkout", rollout: 25);
        await sdk.AddRuleAsync(checkout, new { rule_type = "segment", rule_value = "beta", priority = 5 });
        await sdk.AddRuleAsync(checkout, new
        {
            rule_type = "attribute_match", rollout_percentage = 50,
            conditions = new[] { new { attribute = "country", @operator = "equals", values = new[] { "NL" } } },
        });
        (await sdk.Owner.PutJsonAsync($"/api/projects/{sdk.ProjectId}/environments/production/flags/{checkout}",
            new { prerequisites = new[] { new { flag = "theme", variant = "dark" } } })).EnsureSuccessStatusCode();
        var serverKey = await sdk.ServerKeyAsync();
        var client = app.CreateClient();

        var response = await client.SendAsync(Get(serverKey));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var etag = response.Headers.ETag!.Tag;
        var ruleset = await response.ReadObjectAsync();
        etag.Should().Be($"\"{ruleset["version"]!.GetValue<string>()}\"");
        ruleset["environment"]!.GetValue<string>().Should().Be("production");
        var flags = ruleset["flags"]!.AsArray();
        flags.Select(f => f!["key"]!.GetValue<string>()).Should().Equal("checkout", "theme");
        var theme = flags[1]!;
        (theme["value_type"]!.GetValue<string>(), theme["off_variant"]!.GetValue<string>()).Should().Be(("string", "light"));
        theme["variants"]!.ToJsonString().Should().Be("""[{"key":"light","value":"light"},{"key":"dark","value":"dark"}]""");
        JsonNode.DeepEquals(theme["serve"], JsonNode.Parse("""{"distribution":[{"variant":"light","weight":30},{"variant":"dark","weight":70}]}"""))
            .Should().BeTrue();
        var rules = flags[0]!["rules"]!.AsArray();
        rules.Select(r => r!["rule_type"]!.GetValue<string>()).Should().Equal("segment", "attribute_match");
        var condition = rules[1]!["conditions"]![0]!;
        (condition["attribute"]!.GetValue<string>(), condition["operator"]!.GetValue<string>(), condition["values"]![0]!.GetValue<string>())
            .Should().Be(("country", "equals", "NL"));
        (flags[0]!["rollout_percentage"]!.GetValue<int>(), flags[0]!["enabled"]!.GetValue<bool>()).Should().Be((25, true));
        flags[0]!["prerequisites"]!.ToJsonString().Should().Be("""[{"flag":"theme","variant":"dark"}]""");
        var segment = ruleset["segments"]!.AsArray().Single()!;
        (segment["key"]!.GetValue<string>(), segment["included"]!.ToJsonString(), segment["excluded"]!.ToJsonString())
            .Should().Be(("beta", """["u1","u2"]""", """["banned"]"""));

        var again = await client.SendAsync(Get(serverKey, etag, bearer: true));
        again.StatusCode.Should().Be(HttpStatusCode.NotModified);
        (await again.Content.ReadAsByteArrayAsync()).Should().BeEmpty();

        (await sdk.Owner.PostAsync($"{sdk.Flags}/{checkout}/toggle", null)).EnsureSuccessStatusCode();
        var changed = await client.SendAsync(Get(serverKey, etag));
        changed.StatusCode.Should().Be(HttpStatusCode.OK);
        changed.Headers.ETag!.Tag.Should().NotBe(etag);

        // Another instance holding the same configuration announces the same version.
        await using var instanceB = new FlagServiceFactory(app.ConnectionString);
        (await instanceB.CreateClient().SendAsync(Get(serverKey))).Headers.ETag!.Tag.Should().Be(changed.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task Sdk_key_browser_and_unknown_keys_are_refused()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var serverKey = await sdk.ServerKeyAsync();
        var client = app.CreateClient();

        (await (await client.SendAsync(Get(sdk.SdkKey))).ShouldBeProblemAsync(403))["detail"]!.GetValue<string>().Should().Contain("server key");
        await (await client.SendAsync(Get(serverKey, origin: "https://shop.example"))).ShouldBeProblemAsync(403);
        await (await client.SendAsync(Get("srv_nope"))).ShouldBeProblemAsync(401);
        await (await client.SendAsync(Get(null))).ShouldBeProblemAsync(401);

        // A browser's preflight gets no grant, so a page cannot even send the request.
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/sdk/v1/ruleset");
        preflight.Headers.Add("Origin", "https://shop.example");
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-sdk-key");
        var answer = await client.SendAsync(preflight);
        answer.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
        var evaluate = new HttpRequestMessage(HttpMethod.Options, "/sdk/v1/evaluate");
        evaluate.Headers.Add("Origin", "https://shop.example");
        evaluate.Headers.Add("Access-Control-Request-Method", "POST");
        (await client.SendAsync(evaluate)).Headers.Contains("Access-Control-Allow-Origin").Should().BeTrue("sdk routes stay open to pages");
    }

    [Fact]
    public async Task OpenAPI_describes_the_ruleset_schema_and_the_new_routes()
    {
        var document = await (await app.CreateClient().GetAsync("/openapi/v1.json")).ReadObjectAsync();
        var schemas = document["components"]!["schemas"]!.AsObject();
        schemas.Select(p => p.Key).Should().Contain(["Ruleset", "RulesetFlag", "RulesetRule", "RulesetSegment", "RulesetVariant", "RulesetPrerequisite"]);
        schemas["Ruleset"]!["properties"]!.AsObject().Select(p => p.Key).Should().Equal("version", "environment", "flags", "segments");
        var paths = document["paths"]!.AsObject();
        paths["/sdk/v1/ruleset"]!["get"]!["responses"]!.AsObject().Select(p => p.Key).Should().Contain(["200", "304", "401", "403"]);
        paths["/sdk/v1/stream"]!["get"]!["responses"]!["200"]!["content"]!.AsObject().Select(p => p.Key).Should().Equal("text/event-stream");
        paths.Select(p => p.Key).Should().Contain("/sdk/v1/events");
    }
}
