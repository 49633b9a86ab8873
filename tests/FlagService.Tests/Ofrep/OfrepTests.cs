using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Ofrep;

public sealed class OfrepTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static HttpRequestMessage Request(string path, string? sdkKey, string? body, bool bearer = false, string? ifNoneMatch = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/ofrep/v1/evaluate/flags{path}");
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        if (sdkKey is not null && bearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sdkKey);
        }
        else if (sdkKey is not null)
        {
            request.Headers.Add("X-API-Key", sdkKey);
        }
        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }
        return request;
    }

    private async Task<(HttpResponseMessage Response, JsonObject? Body)> Send(HttpRequestMessage request)
    {
        var response = await app.CreateClient().SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length == 0 ? null : JsonNode.Parse(text)!.AsObject());
    }

    private async Task<SdkScenario> ProjectAsync()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        await sdk.CreateFlagAsync("off", enabled: false, rollout: 100);
        await sdk.CreateFlagAsync("static_on", rollout: 100);
        await sdk.CreateFlagAsync("half", rollout: 50);
        var targeted = await sdk.CreateFlagAsync("targeted", rollout: 100);
        await sdk.AddRuleAsync(targeted, new { rule_type = "attribute_match", conditions = new[] { new { attribute = "plan", @operator = "equals", values = new[] { "pro" } } } });
        return sdk;
    }

    [Fact]
    public async Task Single_flag_maps_values_variants_and_reasons()
    {
        var sdk = await ProjectAsync();

        var (disabled, off) = await Send(Request("/off", sdk.SdkKey, """{"context":{"targetingKey":"u1"}}"""));
        disabled.StatusCode.Should().Be(HttpStatusCode.OK);
        disabled.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        off!["value"]!.GetValue<bool>().Should().BeFalse();
        off["variant"]!.GetValue<string>().Should().Be("off");
        off["reason"]!.GetValue<string>().Should().Be("DISABLED");
        off["key"]!.GetValue<string>().Should().Be("off");

        (await Send(Request("/static_on", sdk.SdkKey, "{}", bearer: true))).Body!["reason"]!.GetValue<string>().Should().Be("STATIC");

        var (_, pro) = await Send(Request("/targeted", sdk.SdkKey, """{"context":{"targetingKey":"u1","plan":"pro"}}"""));
        pro!["reason"]!.GetValue<string>().Should().Be("TARGETING_MATCH");
        pro["metadata"]!["ruleId"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        var (_, free) = await Send(Request("/targeted", sdk.SdkKey, """{"context":{"targetingKey":"u1","plan":"free"}}"""));
        free!["reason"]!.GetValue<string>().Should().Be("DEFAULT");

        var (_, split) = await Send(Request("/half", sdk.SdkKey, """{"context":{"targetingKey":"user_12345"}}"""));
        split!["reason"]!.GetValue<string>().Should().Be("SPLIT");
        var sdkAnswer = await sdk.EvaluateAsync(app.CreateClient(), new { user_id = "user_12345" });
        split["value"]!.GetValue<bool>().Should().Be(sdkAnswer["half"]!["enabled"]!.GetValue<bool>());

        var (_, byEmail) = await Send(Request("/half", sdk.SdkKey, """{"context":{"email":" Ann@Example.com "}}"""));
        byEmail!["reason"]!.GetValue<string>().Should().Be("SPLIT", "the email is an identifier too");
    }

    [Fact]
    public async Task Single_flag_errors_carry_key_and_error_code()
    {
        var sdk = await ProjectAsync();

        var (missing, notFound) = await Send(Request("/nope", sdk.SdkKey, "{}"));
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        notFound!["errorCode"]!.GetValue<string>().Should().Be("FLAG_NOT_FOUND");
        notFound["key"]!.GetValue<string>().Should().Be("nope");
        notFound["status"]!.GetValue<int>().Should().Be(404);

        (await Send(Request("/a/b", sdk.SdkKey, "{}"))).Body!["errorCode"]!.GetValue<string>().Should().Be("FLAG_NOT_FOUND");

        var (parse, parseBody) = await Send(Request("/half", sdk.SdkKey, "{\"context\": "));
        parse.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        parseBody!["errorCode"]!.GetValue<string>().Should().Be("PARSE_ERROR");
        parseBody["key"]!.GetValue<string>().Should().Be("half");

        foreach (var body in new[] { """{"context":[]}""", """{"context":{"targetingKey":42}}""", "[1]" })
        {
            var (invalid, invalidBody) = await Send(Request("/half", sdk.SdkKey, body));
            invalid.StatusCode.Should().Be(HttpStatusCode.BadRequest, body);
            invalidBody!["errorCode"]!.GetValue<string>().Should().Be("INVALID_CONTEXT", body);
        }

        var (keyless, keylessBody) = await Send(Request("/half", sdk.SdkKey, """{"context":{"plan":"pro"}}"""));
        keyless.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        keylessBody!["errorCode"]!.GetValue<string>().Should().Be("TARGETING_KEY_MISSING");
        keylessBody["errorDetails"]!.GetValue<string>().Should().Contain("targetingKey");
    }

    [Fact]
    public async Task Missing_or_unknown_sdk_key_is_401_on_both_endpoints()
    {
        foreach (var path in new[] { "", "/half" })
        {
            (await Send(Request(path, null, "{}"))).Response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            (await Send(Request(path, "sdk_" + new string('q', 32), "{}"))).Response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            (await Send(Request(path, "sdk_" + new string('q', 32), "{}", bearer: true))).Response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task Bulk_lists_every_flag_with_per_flag_errors_and_never_fails_whole()
    {
        var sdk = await ProjectAsync();

        var (response, body) = await Send(Request("", sdk.SdkKey, """{"context":{"plan":"pro"}}"""));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var flags = body!["flags"]!.AsArray().ToDictionary(f => f!["key"]!.GetValue<string>(), f => f!.AsObject());
        flags.Keys.Should().BeEquivalentTo("off", "static_on", "half", "targeted");
        flags["half"]["errorCode"]!.GetValue<string>().Should().Be("TARGETING_KEY_MISSING");
        flags["half"].ContainsKey("value").Should().BeFalse();
        flags["targeted"]["reason"]!.GetValue<string>().Should().Be("TARGETING_MATCH");
        flags["static_on"]["value"]!.GetValue<bool>().Should().BeTrue();

        (await Send(Request("", sdk.SdkKey, "not json"))).Body!["errorCode"]!.GetValue<string>().Should().Be("PARSE_ERROR");
        (await Send(Request("", sdk.SdkKey, """{"context":"u1"}"""))).Body!["errorCode"]!.GetValue<string>().Should().Be("INVALID_CONTEXT");
    }

    [Fact]
    public async Task Bulk_etag_gives_304_until_an_answer_for_that_context_changes()
    {
        var sdk = await ProjectAsync();
        const string context = """{"context":{"targetingKey":"u1","plan":"pro"}}""";

        var (first, _) = await Send(Request("", sdk.SdkKey, context));
        var etag = first.Headers.ETag!.Tag;
        etag.Should().StartWith("\"");

        var (notModified, empty) = await Send(Request("", sdk.SdkKey, context, ifNoneMatch: etag));
        notModified.StatusCode.Should().Be(HttpStatusCode.NotModified);
        empty.Should().BeNull();
        notModified.Headers.ETag!.Tag.Should().Be(etag);
        (await Send(Request("", sdk.SdkKey, context, ifNoneMatch: $"\"other\", W/{etag}"))).Response.StatusCode.Should().Be(HttpStatusCode.NotModified);
        (await Send(Request("", sdk.SdkKey, context, ifNoneMatch: "*"))).Response.StatusCode.Should().Be(HttpStatusCode.NotModified);

        // Another context gets other answers, so its ETag differs and the old one does not match.
        var (otherContext, _) = await Send(Request("", sdk.SdkKey, """{"context":{"targetingKey":"u1","plan":"free"}}""", ifNoneMatch: etag));
        otherContext.StatusCode.Should().Be(HttpStatusCode.OK);
        otherContext.Headers.ETag!.Tag.Should().NotBe(etag);

        // A change that does not alter this context's answers keeps the ETag...
        var projectFlags = JsonNode.Parse(await sdk.Owner.GetStringAsync(sdk.Flags))!.AsArray();
        string FlagId(string key) => projectFlags.First(f => f!["key"]!.GetValue<string>() == key)!["id"]!.GetValue<string>();
        (await sdk.Owner.PutJsonAsync($"{sdk.Flags}/{FlagId("off")}", new { name = "renamed" })).EnsureSuccessStatusCode();
        (await Send(Request("", sdk.SdkKey, context, ifNoneMatch: etag))).Response.StatusCode.Should().Be(HttpStatusCode.NotModified);

        // ...and one that does changes it at once.
        (await sdk.Owner.PostAsync($"{sdk.Flags}/{FlagId("off")}/toggle", null)).EnsureSuccessStatusCode();
        var (changed, body) = await Send(Request("", sdk.SdkKey, context, ifNoneMatch: etag));
        changed.StatusCode.Should().Be(HttpStatusCode.OK);
        changed.Headers.ETag!.Tag.Should().NotBe(etag);
        body!["flags"]!.AsArray().First(f => f!["key"]!.GetValue<string>() == "off")!["value"]!.GetValue<bool>().Should().BeTrue();
    }

    [Fact]
    public async Task Ofrep_evaluations_are_counted_in_the_same_analytics()
    {
        var sdk = await ProjectAsync();
        await Send(Request("/static_on", sdk.SdkKey, """{"context":{"targetingKey":"counted"}}"""));
        var (_, _) = await Send(Request("", sdk.SdkKey, """{"context":{"targetingKey":"counted"}}"""));
        var flagId = JsonNode.Parse(await sdk.Owner.GetStringAsync(sdk.Flags))!.AsArray()
            .First(f => f!["key"]!.GetValue<string>() == "static_on")!["id"]!.GetValue<string>();

        (await SdkScenario.EventuallyAsync(async () =>
        {
            var stats = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{flagId}/stats?interval=hour")).ReadObjectAsync();
            return stats["totals"]!["total"]!.GetValue<long>() == 2;
        }, TimeSpan.FromSeconds(10))).Should().BeTrue();
        // Counts and latest answers are written one after the other by the same flush.
        (await SdkScenario.EventuallyAsync(async () =>
            (await sdk.Owner.GetAsync($"{sdk.Flags}/{flagId}/evaluations?user=counted")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(5))).Should().BeTrue();
    }
}

public sealed class StrictOfrepLimitFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimiting:OfrepPermitLimit"] = "2",
        ["RateLimiting:OfrepWindowSeconds"] = "30",
    };
}

public sealed class OfrepRateLimitTests(StrictOfrepLimitFixture app) : IClassFixture<StrictOfrepLimitFixture>
{
    [Fact]
    public async Task Over_the_limit_is_429_with_retry_after_in_seconds()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var client = app.CreateClient();
        HttpResponseMessage last = null!;
        for (var i = 0; i < 3; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/ofrep/v1/evaluate/flags") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            request.Headers.Add("X-API-Key", sdk.SdkKey);
            last = await client.SendAsync(request);
        }

        last.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        last.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeInRange(1, 30);
    }
}
