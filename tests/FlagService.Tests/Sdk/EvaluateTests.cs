using System.Net;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Sdk;

public sealed class EvaluateTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static (bool Enabled, string Reason) Of(JsonObject result, string key) =>
        (result[key]!["enabled"]!.GetValue<bool>(), result[key]!["reason"]!.GetValue<string>());

    [Fact]
    public async Task Evaluate_returns_every_flag_with_every_reason()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        await sdk.CreateFlagAsync("off", enabled: false, rollout: 100);
        await sdk.CreateFlagAsync("everyone", rollout: 100);
        await sdk.CreateFlagAsync("nobody", rollout: 0);
        var targeted = await sdk.CreateFlagAsync("targeted", rollout: 0);
        await sdk.AddRuleAsync(targeted, new { rule_type = "user_id", rule_value = "user_12345" });
        // dark_mode:user_12345 is bucket 39 (API.md test vectors).
        await sdk.CreateFlagAsync("dark_mode", rollout: 40);
        await sdk.CreateFlagAsync("dark-mode-39", rollout: 39);

        var result = await sdk.EvaluateAsync(app.CreateClient(), new { user_id = "user_12345" });

        result.Select(p => p.Key).Should().BeEquivalentTo("off", "everyone", "nobody", "targeted", "dark_mode", "dark-mode-39");
        Of(result, "off").Should().Be((false, "disabled"));
        Of(result, "everyone").Should().Be((true, "rollout"));
        Of(result, "nobody").Should().Be((false, "rollout_excluded"));
        Of(result, "targeted").Should().Be((true, "rule_match"));
        Of(result, "dark_mode").Should().Be((true, "rollout"));
    }

    [Fact]
    public async Task Evaluate_seed_rules_by_priority_match_a_user_matching_several()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("new_checkout", rollout: 0);
        await sdk.AddRuleAsync(flag, new { rule_type = "user_id", rule_value = "user_42", priority = 100 });
        await sdk.AddRuleAsync(flag, new { rule_type = "user_email", rule_value = "alice@example.com", priority = 90 });
        await sdk.AddRuleAsync(flag, new { rule_type = "email_domain", rule_value = "@company.com", priority = 80 });
        var client = app.CreateClient();

        Of(await sdk.EvaluateAsync(client, new { user_id = "user_42", user_email = "alice@example.com" }), "new_checkout").Should().Be((true, "rule_match"));
        Of(await sdk.EvaluateAsync(client, new { user_id = "someone", user_email = " ALICE@example.com " }), "new_checkout").Should().Be((true, "rule_match"));
        Of(await sdk.EvaluateAsync(client, new { user_email = "jo@Company.com" }), "new_checkout").Should().Be((true, "rule_match"));
        Of(await sdk.EvaluateAsync(client, new { user_email = "jo@notcompany.com" }), "new_checkout").Should().Be((false, "rollout_excluded"));
        Of(await sdk.EvaluateAsync(client, new { user_email = "jo@sub.company.com" }), "new_checkout").Should().Be((false, "rollout_excluded"));
        Of(await sdk.EvaluateAsync(client, new { user_id = "USER_42" }), "new_checkout").Should().Be((false, "rollout_excluded"));
    }

    [Fact]
    public async Task Evaluate_uses_custom_attributes_and_rule_rollout()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("pro_only", rollout: 0);
        await sdk.AddRuleAsync(flag, new
        {
            rule_type = "attribute_match",
            conditions = new object[]
            {
                new { attribute = "plan", @operator = "in", values = new[] { "pro", "enterprise" } },
                new { attribute = "app_version", @operator = "semver_gte", values = new[] { "2.4.0" } },
            },
        });
        var client = app.CreateClient();

        Of(await sdk.EvaluateAsync(client, new { user_id = "u1", custom_attributes = new { plan = "pro", app_version = "2.10.0" } }), "pro_only")
            .Should().Be((true, "rule_match"));
        Of(await sdk.EvaluateAsync(client, new { user_id = "u1", custom_attributes = new { plan = "pro", app_version = "2.3.9" } }), "pro_only")
            .Should().Be((false, "rollout_excluded"));
        Of(await sdk.EvaluateAsync(client, new { user_id = "u1", custom_attributes = new { plan = "free", app_version = "3.0.0" } }), "pro_only")
            .Should().Be((false, "rollout_excluded"));
    }

    [Fact]
    public async Task Evaluate_sees_every_change_on_the_very_next_call()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("kill_me", rollout: 100);
        var client = app.CreateClient();
        Of(await sdk.EvaluateAsync(client, new { user_id = "u" }), "kill_me").Should().Be((true, "rollout"));

        (await sdk.Owner.PostAsync($"{sdk.Flags}/{flag}/toggle", null)).EnsureSuccessStatusCode();
        Of(await sdk.EvaluateAsync(client, new { user_id = "u" }), "kill_me").Should().Be((false, "disabled"));

        (await sdk.Owner.PostAsync($"{sdk.Flags}/{flag}/toggle", null)).EnsureSuccessStatusCode();
        (await sdk.Owner.PutJsonAsync($"{sdk.Flags}/{flag}", new { rollout_percentage = 0 })).EnsureSuccessStatusCode();
        Of(await sdk.EvaluateAsync(client, new { user_id = "u" }), "kill_me").Should().Be((false, "rollout_excluded"));

        await sdk.AddRuleAsync(flag, new { rule_type = "user_id", rule_value = "u" });
        Of(await sdk.EvaluateAsync(client, new { user_id = "u" }), "kill_me").Should().Be((true, "rule_match"));

        await sdk.CreateFlagAsync("brand_new", rollout: 100);
        (await sdk.EvaluateAsync(client, new { user_id = "u" })).ContainsKey("brand_new").Should().BeTrue();

        (await sdk.Owner.DeleteAsync($"{sdk.Flags}/{flag}")).EnsureSuccessStatusCode();
        (await sdk.EvaluateAsync(client, new { user_id = "u" })).ContainsKey("kill_me").Should().BeFalse();
    }

    [Fact]
    public async Task Evaluate_with_regenerated_key_rejects_the_old_key_at_once()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        await sdk.CreateFlagAsync("f", rollout: 100);
        var client = app.CreateClient();
        await sdk.EvaluateAsync(client);
        var oldKey = sdk.SdkKey;

        var regenerated = await (await sdk.Owner.PostAsync($"/api/projects/{sdk.ProjectId}/regenerate-key", null)).ReadObjectAsync();

        await (await sdk.EvaluateRawAsync(client, null, oldKey)).ShouldBeProblemAsync(401);
        (await sdk.EvaluateRawAsync(client, null, regenerated["sdk_key"]!.GetValue<string>())).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Evaluate_without_or_with_unknown_key_returns_401()
    {
        var client = app.CreateClient();
        var missing = await client.PostRawAsync("/sdk/v1/evaluate", "{}");
        (await missing.ShouldBeProblemAsync(401))["detail"]!.GetValue<string>().Should().Contain("No SDK key");
        var sdk = await SdkScenario.CreateAsync(app);
        await (await sdk.EvaluateRawAsync(client, null, "sdk_" + new string('x', 32))).ShouldBeProblemAsync(401);
    }

    [Fact]
    public async Task Evaluate_with_empty_body_evaluates_an_anonymous_user()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        await sdk.CreateFlagAsync("half", rollout: 50);
        var request = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/evaluate");
        request.Headers.Add("X-SDK-Key", sdk.SdkKey);

        var response = await app.CreateClient().SendAsync(request);

        Of(await response.ReadObjectAsync(), "half").Should().Be((false, "rollout_excluded"));
    }

    [Fact]
    public async Task Evaluate_bad_bodies_get_problem_details()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var client = app.CreateClient();
        async Task<HttpResponseMessage> Send(string body)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/evaluate") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("X-SDK-Key", sdk.SdkKey);
            return await client.SendAsync(request);
        }

        await (await Send("{\"user_id\": ")).ShouldBeValidationErrorAsync("body", "valid JSON");
        await (await Send("{\"user_id\": 42}")).ShouldBeValidationErrorAsync("user_id", "must be a string");
        await (await Send("{\"custom_attributes\": [1]}")).ShouldBeValidationErrorAsync("custom_attributes", "must be an object");
        await (await Send($"{{\"user_id\": \"{new string('u', 33 * 1024)}\"}}")).ShouldBeProblemAsync(413);
        await (await Send("{\"user_id\": \"u\"} {}")).ShouldBeValidationErrorAsync("body", "valid JSON");
        await (await Send("[{\"user_id\": \"u\"}]")).ShouldBeValidationErrorAsync("body", "JSON object");
        await (await Send("{\"user_email\": {\"a\": 1}}")).ShouldBeValidationErrorAsync("user_email", "must be a string");

        var text = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/evaluate") { Content = new StringContent("user_id=u", System.Text.Encoding.UTF8, "text/plain") };
        text.Headers.Add("X-SDK-Key", sdk.SdkKey);
        await (await client.SendAsync(text)).ShouldBeProblemAsync(415);
    }

    [Fact]
    public async Task Evaluate_ignores_unknown_fields_and_accepts_nulls()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("f", rollout: 0);
        await sdk.AddRuleAsync(flag, new { rule_type = "user_id", rule_value = "u1" });
        var client = app.CreateClient();
        async Task<JsonObject> Send(string body)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/evaluate") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("X-SDK-Key", sdk.SdkKey);
            var response = await client.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            return await response.ReadObjectAsync();
        }

        Of(await Send("""{"extra": {"deep": [1, {"x": null}]}, "user_id": "u1", "user_email": null, "custom_attributes": null}"""), "f")
            .Should().Be((true, "rule_match"));
        Of(await Send("null"), "f").Should().Be((false, "rollout_excluded"));
        Of(await Send("""  {"user_id": "u1"}  """), "f").Should().Be((true, "rule_match"));
    }

    [Fact]
    public async Task Evaluate_answers_cors_preflight_from_any_origin_but_management_does_not()
    {
        var client = app.CreateClient();
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/sdk/v1/evaluate");
        preflight.Headers.Add("Origin", "https://shop.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-sdk-key,content-type");
        var response = await client.SendAsync(preflight);
        response.IsSuccessStatusCode.Should().BeTrue();
        response.Headers.GetValues("Access-Control-Allow-Origin").Should().Contain("*");

        var management = new HttpRequestMessage(HttpMethod.Options, "/api/projects");
        management.Headers.Add("Origin", "https://shop.example");
        management.Headers.Add("Access-Control-Request-Method", "GET");
        var denied = await client.SendAsync(management);
        denied.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
    }

    [Fact]
    public async Task Evaluate_keeps_answering_from_memory_while_the_database_is_down()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var factory = new FlagServiceFactory(database.ConnectionString);
        _ = factory.Server;
        await factory.ListeningAsync();
        var isolated = new IsolatedApp(factory);
        var sdk = await SdkScenario.CreateAsync(isolated);
        await sdk.CreateFlagAsync("survivor", rollout: 100);
        var client = factory.CreateClient();
        // The trigger's NOTIFY of our own writes comes back through the listener and drops the
        // snapshot once more; wait until it has, then warm the snapshot for good.
        await factory.NotificationsHandledAsync();
        await sdk.EvaluateAsync(client);

        await database.RefuseConnectionsAsync();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                Of(await sdk.EvaluateAsync(client, new { user_id = $"u{i}" }), "survivor").Should().Be((true, "rollout"));
            }
            await (await sdk.EvaluateRawAsync(client, null, "sdk_" + new string('z', 32))).ShouldBeProblemAsync(503);
        }
        finally
        {
            await database.AllowConnectionsAsync();
        }
    }

    // Lets SdkScenario drive a factory that is not a class fixture.
    private sealed class IsolatedApp(FlagServiceFactory factory) : AppFixture
    {
        public override HttpClient CreateClient() => factory.CreateClient();
    }
}
