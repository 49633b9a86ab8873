using System.Net;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Rules;

public sealed class AttributeRuleTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static object Condition(string attribute, string op, object[]? values = null, bool negate = false, bool ignoreCase = false) =>
        new { attribute, @operator = op, values = values ?? [], negate, ignore_case = ignoreCase };

    private async Task<(SdkScenario Sdk, string Flag)> FlagWithRuleAsync(params object[] conditions)
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("targeted", rollout: 0);
        await sdk.AddRuleAsync(flag, new { rule_type = "attribute_match", conditions });
        return (sdk, flag);
    }

    private async Task<string> ReasonFor(SdkScenario sdk, object attributes, string? userId = "u1", string? email = null)
    {
        var result = await sdk.EvaluateAsync(app.CreateClient(), new { user_id = userId, user_email = email, custom_attributes = attributes });
        return result["targeted"]!["reason"]!.GetValue<string>();
    }

    [Fact]
    public async Task Plan_and_version_and_not_country_is_an_AND_of_conditions()
    {
        var (sdk, _) = await FlagWithRuleAsync(
            Condition("plan", "in", ["pro", "enterprise"]),
            Condition("app_version", "semver_gte", ["2.4.0"]),
            Condition("country", "in", ["FR", "DE"], negate: true));

        (await ReasonFor(sdk, new { plan = "pro", app_version = "2.10.0", country = "US" })).Should().Be("rule_match");
        (await ReasonFor(sdk, new { plan = "pro", app_version = "2.10.0", country = "FR" })).Should().Be("rollout_excluded");
        (await ReasonFor(sdk, new { plan = "pro", app_version = "2.4.0-beta.1", country = "US" })).Should().Be("rollout_excluded");
        (await ReasonFor(sdk, new { plan = "free", app_version = "3.0.0", country = "US" })).Should().Be("rollout_excluded");
        (await ReasonFor(sdk, new { plan = "pro", app_version = "2.4.0" })).Should().Be("rollout_excluded",
            "a condition on a missing attribute never matches, negated or not");
    }

    [Fact]
    public async Task Numbers_instants_regex_arrays_case_and_presence()
    {
        var (numbers, _) = await FlagWithRuleAsync(Condition("seats", "gt", [10]));
        (await ReasonFor(numbers, new { seats = 11 })).Should().Be("rule_match");
        (await ReasonFor(numbers, new { seats = "12" })).Should().Be("rule_match", "a numeric string counts as a number");
        (await ReasonFor(numbers, new { seats = 10 })).Should().Be("rollout_excluded");
        (await ReasonFor(numbers, new { seats = true })).Should().Be("rollout_excluded");

        var (signup, _) = await FlagWithRuleAsync(Condition("signup", "after", ["2026-03-01T00:00:00Z"]));
        (await ReasonFor(signup, new { signup = "2026-03-01T01:00:00+02:00" })).Should().Be("rollout_excluded", "that is 23:00 UTC the day before");
        (await ReasonFor(signup, new { signup = "2026-03-01T00:00:01Z" })).Should().Be("rule_match");

        var (pattern, _) = await FlagWithRuleAsync(Condition("user_email", "matches", [@"@(staff|ops)\.example\.com$"]));
        (await ReasonFor(pattern, new { }, email: "kim@ops.example.com")).Should().Be("rule_match");
        (await ReasonFor(pattern, new { }, email: "kim@example.com")).Should().Be("rollout_excluded");

        var (tags, _) = await FlagWithRuleAsync(Condition("groups", "contains", ["BETA"], ignoreCase: true));
        (await ReasonFor(tags, new { groups = new[] { "staff", "beta-testers" } })).Should().Be("rule_match");
        (await ReasonFor(tags, new { groups = Array.Empty<string>() })).Should().Be("rollout_excluded");

        var (anonymous, _) = await FlagWithRuleAsync(Condition("account_id", "exists", negate: true));
        (await ReasonFor(anonymous, new { })).Should().Be("rule_match");
        (await ReasonFor(anonymous, new { account_id = "a1" })).Should().Be("rollout_excluded");
    }

    [Fact]
    public async Task Rule_rollout_includes_about_its_percentage_and_always_says_rule_match()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("pro_slice", rollout: 100);
        await sdk.AddRuleAsync(flag, new
        {
            rule_type = "attribute_match",
            rollout_percentage = 20,
            conditions = new[] { Condition("plan", "equals", ["pro"]) },
        });
        var client = app.CreateClient();

        var included = 0;
        var reasons = new HashSet<string>();
        foreach (var batch in Enumerable.Range(0, 10_000).Chunk(200))
        {
            var results = await Task.WhenAll(batch.Select(i => sdk.EvaluateAsync(client, new { user_id = $"user_{i}", custom_attributes = new { plan = "pro" } })));
            foreach (var result in results)
            {
                included += result["pro_slice"]!["enabled"]!.GetValue<bool>() ? 1 : 0;
                reasons.Add(result["pro_slice"]!["reason"]!.GetValue<string>());
            }
        }

        included.Should().BeInRange(1_850, 2_150, "20 % of 10 000 users, give or take the hash's spread");
        reasons.Should().BeEquivalentTo("rule_match");
        var free = await sdk.EvaluateAsync(client, new { user_id = "user_1", custom_attributes = new { plan = "free" } });
        free["pro_slice"]!["reason"]!.GetValue<string>().Should().Be("rollout", "non-matching users fall through to the flag's 100 %");
    }

    [Theory]
    [InlineData("too_many_conditions", "conditions", "at most 20")]
    [InlineData("too_many_values", "conditions[0].values", "at most 1000")]
    [InlineData("exists_with_values", "conditions[0].values", "empty")]
    [InlineData("long_regex", "conditions[0].values[0]", "256")]
    [InlineData("unknown_field", "conditions[0].negated", "not a known field")]
    [InlineData("empty_attribute", "conditions[0].attribute", "must not be empty")]
    [InlineData("missing_operator", "conditions[0].operator", "is required")]
    [InlineData("two_bounds", "conditions[0].values", "exactly one value")]
    [InlineData("bad_instant", "conditions[0].values[0]", "")]
    [InlineData("not_an_array", "conditions", "array")]
    public async Task Invalid_conditions_return_400_naming_the_condition(string shape, string field, string rule)
    {
        object conditions = shape switch
        {
            "too_many_conditions" => Enumerable.Range(0, 21).Select(i => Condition($"a{i}", "exists")).ToArray(),
            "too_many_values" => new[] { Condition("plan", "in", Enumerable.Range(0, 1001).Select(i => (object)$"v{i}").ToArray()) },
            "exists_with_values" => new[] { Condition("plan", "exists", ["x"]) },
            "long_regex" => new[] { Condition("email", "matches", [new string('a', 257)]) },
            "unknown_field" => new object[] { new { attribute = "plan", @operator = "equals", values = new[] { "pro" }, negated = true } },
            "empty_attribute" => new[] { Condition(" ", "equals", ["x"]) },
            "missing_operator" => new object[] { new { attribute = "plan", values = new[] { "pro" } } },
            "two_bounds" => new[] { Condition("seats", "gt", [1, 2]) },
            "bad_instant" => new[] { Condition("signup", "before", ["next tuesday"]) },
            _ => new { attribute = "plan" },
        };
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("f");

        var response = await sdk.Owner.PostJsonAsync($"{sdk.Flags}/{flag}/rules", new { rule_type = "attribute_match", conditions });

        await response.ShouldBeValidationErrorAsync(field, rule);
    }

    [Fact]
    public async Task Stored_conditions_are_normalised_and_read_back()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("f");
        var created = await (await sdk.Owner.PostJsonAsync($"{sdk.Flags}/{flag}/rules", new
        {
            rule_type = "attribute_match",
            conditions = new object[] { new { attribute = " plan ", @operator = "in", values = new object[] { "pro", 3 } }, new { attribute = "beta", @operator = "exists" } },
        })).ReadObjectAsync();

        var expected = JsonNode.Parse(
            """[{"attribute":"plan","operator":"in","values":["pro",3],"negate":false,"ignore_case":false},{"attribute":"beta","operator":"exists","values":[],"negate":false,"ignore_case":false}]""");
        JsonNode.DeepEquals(created["conditions"], expected).Should().BeTrue(created["conditions"]!.ToJsonString());
        var listed = JsonNode.Parse(await sdk.Owner.GetStringAsync($"{sdk.Flags}/{flag}/rules"))!.AsArray();
        listed[0]!["conditions"]!.ToJsonString().Should().Be(created["conditions"]!.ToJsonString());
        (await sdk.Owner.GetAsync($"{sdk.Flags}/{flag}/rules/{created["id"]}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
