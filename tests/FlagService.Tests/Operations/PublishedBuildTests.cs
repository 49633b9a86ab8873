using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using FlagService.Tests.Auth;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Operations;

// One walk through every kind of work the service does, in a process of its own. Under
// scripts/test.sh that process is the build the Dockerfile ships (self-contained and trimmed,
// ServiceProcess.Command): code that reflection reaches and the trimmer could have removed runs
// here as it does in production. JSON binding of nested requests, validation problems, Argon2,
// JWTs and API tokens, mail through MailKit, the OpenAPI document, audit, analytics, the
// ruleset, OFREP and evaluation of every rule type.
public sealed class PublishedBuildTests
{
    [Fact]
    public async Task Management_sdk_mail_and_documents_work_in_the_process()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var service = ServiceProcess.Start(database.ConnectionString, new Dictionary<string, string>
        {
            ["Smtp__Host"] = "127.0.0.1",
            ["Smtp__Port"] = Environment.GetEnvironmentVariable("FLAGSERVICE_TEST_SMTP_PORT")
                ?? throw new InvalidOperationException("FLAGSERVICE_TEST_SMTP_PORT is not set: run the suite with scripts/test.sh."),
            ["Smtp__Security"] = "None",
            ["Smtp__From"] = "flagservice@example.test",
            ["App__PublicUrl"] = MailFixture.PublicUrl,
            ["Analytics__FlushIntervalMilliseconds"] = "200",
        });
        (await service.ReadyAsync(TimeSpan.FromSeconds(60))).Should().BeTrue(string.Join('\n', service.Output));
        var client = service.Client;
        var email = Api.UniqueEmail();
        var token = await client.RegisterAndLoginAsync(email);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var project = await client.CreateProjectAsync();
        var pid = project["id"]!.GetValue<string>();
        var sdkKey = project["sdk_key"]!.GetValue<string>();
        var flags = $"/api/projects/{pid}/flags";

        (await client.PostJsonAsync($"/api/projects/{pid}/segments", new
        {
            key = "beta", name = "Beta", included = new[] { "u1" },
            conditions = new[] { new { attribute = "plan", @operator = "in", values = new[] { "pro" } } },
        })).StatusCode.Should().Be(HttpStatusCode.Created);
        var theme = await (await client.PostJsonAsync(flags, new
        {
            name = "Theme", key = "theme", value_type = "string", enabled = true,
            variants = new object[] { new { key = "light", value = "light" }, new { key = "dark", value = "dark" } },
            serve = new { distribution = new object[] { new { variant = "light", weight = 30 }, new { variant = "dark", weight = 70 } } },
            off_variant = "light",
        })).ReadObjectAsync();
        theme["value_type"]!.GetValue<string>().Should().Be("string");
        var checkout = await (await client.PostJsonAsync(flags, new { name = "Checkout", key = "checkout", enabled = true, rollout_percentage = 0 }))
            .ReadObjectAsync();
        var checkoutId = checkout["id"]!.GetValue<string>();
        foreach (var rule in new object[]
                 {
                     new { rule_type = "segment", rule_value = "beta", priority = 1 },
                     new { rule_type = "email_domain", rule_value = "@example.org", priority = 2 },
                     new
                     {
                         rule_type = "attribute_match", priority = 3,
                         conditions = new object[]
                         {
                             new { attribute = "version", @operator = "semver_gte", values = new[] { "2.1.0" } },
                             new { attribute = "channel", @operator = "matches", values = new[] { "^qa-[a-z]+$" } },
                         },
                     },
                 })
        {
            var added = await client.PostJsonAsync($"{flags}/{checkoutId}/rules", rule);
            added.StatusCode.Should().Be(HttpStatusCode.Created, await added.Content.ReadAsStringAsync());
        }
        (await client.PutJsonAsync($"/api/projects/{pid}/environments/production/flags/{checkoutId}",
            new { prerequisites = new[] { new { flag = "theme", variant = "dark" } } })).StatusCode.Should().Be(HttpStatusCode.OK);
        var qa = await client.PostJsonAsync($"/api/projects/{pid}/environments", new { key = "qa", name = "QA", copy_from = "production" });
        qa.StatusCode.Should().Be(HttpStatusCode.Created, await qa.Content.ReadAsStringAsync());

        // Bad input: problem details naming the field, from the binder and from the validators.
        await (await client.PostJsonAsync(flags, new { name = "Bad", key = "Not A Key" })).ShouldBeValidationErrorAsync("key", "must match");
        var malformed = await client.PostRawAsync(flags, "{\"name\": ");
        malformed.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        malformed.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        await (await client.GetAsync($"/api/projects/{Guid.NewGuid()}")).ShouldBeProblemAsync(404);

        // Evaluation: the segment (u1), the attribute rule (semantic version and pattern), the
        // prerequisite, in the v1 body and over OFREP.
        var sdk = new HttpClient { BaseAddress = client.BaseAddress };
        var answers = new Dictionary<string, JsonObject>();
        foreach (var (user, body) in new[]
                 {
                     ("u1", """{"user_id":"u1"}"""),
                     ("qa", """{"user_id":"qa-7","email":"qa-7@example.com","custom_attributes":{"version":"2.10.1","channel":"qa-nightly"}}"""),
                     ("old", """{"user_id":"qa-8","email":"qa-8@example.com","custom_attributes":{"version":"2.0.9","channel":"qa-nightly"}}"""),
                 })
        {
            var response = await ProductionProcessTests.Evaluate(sdk, sdkKey, body);
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            answers[user] = await response.ReadObjectAsync();
        }
        foreach (var (user, answer) in answers)
        {
            var themeAnswer = answer["theme"]!;
            themeAnswer["value"]!.GetValue<string>().Should().Be(themeAnswer["variant"]!.GetValue<string>());
            var dark = themeAnswer["variant"]!.GetValue<string>() == "dark";
            // At 0 % the fallthrough serves off: rollout_excluded.
            var expected = dark ? (user == "old" ? "rollout_excluded" : "rule_match") : "prerequisite_failed";
            answer["checkout"]!["reason"]!.GetValue<string>().Should().Be(expected, $"{user}: {answer.ToJsonString()}");
        }
        var ofrep = new HttpRequestMessage(HttpMethod.Post, "/ofrep/v1/evaluate/flags")
        {
            Content = new StringContent("""{"context":{"targetingKey":"u1"}}""", Encoding.UTF8, "application/json"),
        };
        ofrep.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sdkKey);
        var bulk = await (await sdk.SendAsync(ofrep)).ReadObjectAsync();
        bulk["flags"]!.AsArray().Select(f => f!["key"]!.GetValue<string>()).Should().BeEquivalentTo("checkout", "theme");

        // The ruleset for server-side clients, by the environment's server key.
        var environment = await (await client.GetAsync($"/api/projects/{pid}/environments/production")).ReadObjectAsync();
        var ruleset = new HttpRequestMessage(HttpMethod.Get, "/sdk/v1/ruleset");
        ruleset.Headers.Add("X-SDK-Key", environment["server_key"]!.GetValue<string>());
        var definition = await (await sdk.SendAsync(ruleset)).ReadObjectAsync();
        definition["flags"]!.AsArray().Should().HaveCount(2);
        definition["segments"]![0]!["key"]!.GetValue<string>().Should().Be("beta");

        // Analytics reach the read API; the audit log holds the changes.
        var stats = "";
        (await SdkScenario.EventuallyAsync(async () =>
        {
            stats = await client.GetStringAsync($"{flags}/{checkoutId}/stats");
            return JsonNode.Parse(stats)!["totals"]!["total"]!.GetValue<long>() == 4;
        }, TimeSpan.FromSeconds(20))).Should().BeTrue($"three v1 evaluations and the OFREP one are counted: {stats}");
        var latest = await client.GetAsync($"{flags}/{checkoutId}/evaluations?user=u1");
        latest.StatusCode.Should().Be(HttpStatusCode.OK, await latest.Content.ReadAsStringAsync());
        var audit = await (await client.GetAsync($"/api/projects/{pid}/audit")).ReadObjectAsync();
        audit["items"]!.AsArray().Select(i => i!["action"]!.GetValue<string>()).Should().Contain("flag.created");

        // An API token in place of the JWT.
        var created = await (await client.PostJsonAsync("/api/tokens", new { name = "ci", role = "viewer", project_id = pid })).ReadObjectAsync();
        var automation = new HttpClient { BaseAddress = client.BaseAddress };
        automation.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created["token"]!.GetValue<string>());
        (await automation.GetAsync(flags)).StatusCode.Should().Be(HttpStatusCode.OK);
        await (await automation.PostJsonAsync(flags, new { name = "No", key = "no" })).ShouldBeProblemAsync(403);

        // The API description.
        var openApi = await (await sdk.GetAsync("/openapi/v1.json")).ReadObjectAsync();
        openApi["paths"]!.AsObject().Select(p => p.Key).Should().Contain("/sdk/v1/evaluate");

        // A password reset mailed through SMTP.
        (await sdk.PostJsonAsync("/auth/forgot-password", new { email })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var mail = await PasswordResetTests.MailToAsync(email, TimeSpan.FromSeconds(15));
        mail.Should().NotBeNull("the reset mail reaches the SMTP server");
        mail!.TextBody.Should().Contain($"{MailFixture.PublicUrl}/reset-password?token=");
    }
}
