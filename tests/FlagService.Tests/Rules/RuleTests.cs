using System.Net;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Rules;

public sealed class RuleTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<(HttpClient Client, string Flag, string Rules)> FlagAsync()
    {
        var client = await app.AuthenticatedClientAsync();
        var project = await client.CreateProjectAsync();
        var flags = $"/api/projects/{project["id"]}/flags";
        var flag = await (await client.PostJsonAsync(flags, new { name = "F", key = "f", enabled = true })).ReadObjectAsync();
        return (client, $"{flags}/{flag["id"]}", $"{flags}/{flag["id"]}/rules");
    }

    [Fact]
    public async Task Create_each_type_returns_201_with_defaults()
    {
        var (client, flag, rules) = await FlagAsync();

        var byId = await client.PostJsonAsync(rules, new { rule_type = "user_id", rule_value = " user_42 " });
        byId.StatusCode.Should().Be(HttpStatusCode.Created);
        var rule = await byId.ReadObjectAsync();
        rule["rule_value"]!.GetValue<string>().Should().Be("user_42");
        rule["enabled"]!.GetValue<bool>().Should().BeTrue();
        rule["priority"]!.GetValue<int>().Should().Be(0);
        rule["rollout_percentage"]!.GetValue<int>().Should().Be(100);
        rule["conditions"].Should().BeNull();
        rule["flag_id"]!.GetValue<string>().Should().Be(flag.Split('/')[^1]);
        byId.Headers.Location!.ToString().Should().Be($"{rules}/{rule["id"]}");

        (await client.PostJsonAsync(rules, new { rule_type = "user_email", rule_value = "a@example.com", priority = 5, enabled = false, rollout_percentage = 30 }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostJsonAsync(rules, new { rule_type = "email_domain", rule_value = "@example.com" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        var attribute = await client.PostJsonAsync(rules, new
        {
            rule_type = "attribute_match",
            priority = 50,
            conditions = new object[]
            {
                new { attribute = "plan", @operator = "in", values = new[] { "pro", "enterprise" } },
                new { attribute = "app_version", @operator = "semver_gte", values = new[] { "2.4.0" } },
            },
        });
        attribute.StatusCode.Should().Be(HttpStatusCode.Created);
        var attributeRule = await attribute.ReadObjectAsync();
        attributeRule["rule_value"].Should().BeNull();
        attributeRule["conditions"]!.AsArray().Should().HaveCount(2);
        attributeRule["conditions"]![0]!["attribute"]!.GetValue<string>().Should().Be("plan");
    }

    [Theory]
    [InlineData("{\"rule_value\":\"x\"}", "rule_type", "is required")]
    [InlineData("{\"rule_type\":\"country\",\"rule_value\":\"x\"}", "rule_type", "must be one of")]
    [InlineData("{\"rule_type\":\"user_id\"}", "rule_value", "")]
    [InlineData("{\"rule_type\":\"user_id\",\"rule_value\":\"   \"}", "rule_value", "")]
    [InlineData("{\"rule_type\":\"user_email\",\"rule_value\":\"no-at-sign\"}", "rule_value", "@")]
    [InlineData("{\"rule_type\":\"email_domain\",\"rule_value\":\"example.com\"}", "rule_value", "@")]
    [InlineData("{\"rule_type\":\"email_domain\",\"rule_value\":\"@\"}", "rule_value", "")]
    [InlineData("{\"rule_type\":\"user_id\",\"rule_value\":\"u\",\"rollout_percentage\":101}", "rollout_percentage", "from 0 to 100")]
    [InlineData("{\"rule_type\":\"user_id\",\"rule_value\":\"u\",\"priority\":\"high\"}", "priority", "must be an integer")]
    [InlineData("{\"rule_type\":\"user_id\",\"rule_value\":\"u\",\"conditions\":[]}", "conditions", "")]
    [InlineData("{\"rule_type\":\"attribute_match\"}", "conditions", "")]
    [InlineData("{\"rule_type\":\"attribute_match\",\"conditions\":[]}", "conditions", "at least one")]
    [InlineData("{\"rule_type\":\"attribute_match\",\"conditions\":[{\"attribute\":\"plan\",\"operator\":\"like\",\"values\":[\"x\"]}]}", "conditions[0].operator", "")]
    [InlineData("{\"rule_type\":\"attribute_match\",\"conditions\":[{\"attribute\":\"plan\",\"operator\":\"in\",\"values\":[]}]}", "conditions[0].values", "")]
    [InlineData("{\"rule_type\":\"attribute_match\",\"conditions\":[{\"attribute\":\"v\",\"operator\":\"semver_gt\",\"values\":[\"two\"]}]}", "conditions[0].values[0]", "")]
    [InlineData("{\"rule_type\":\"attribute_match\",\"conditions\":[{\"attribute\":\"n\",\"operator\":\"gt\",\"values\":[\"many\"]}]}", "conditions[0].values[0]", "")]
    [InlineData("{\"rule_type\":\"attribute_match\",\"conditions\":[{\"attribute\":\"d\",\"operator\":\"after\",\"values\":[\"yesterday\"]}]}", "conditions[0].values[0]", "")]
    [InlineData("{\"rule_type\":\"attribute_match\",\"conditions\":[{\"attribute\":\"e\",\"operator\":\"matches\",\"values\":[\"(unclosed\"]}]}", "conditions[0].values[0]", "")]
    [InlineData("{\"rule_type\":\"attribute_match\",\"rule_value\":\"x\",\"conditions\":[{\"attribute\":\"p\",\"operator\":\"exists\"}]}", "rule_value", "")]
    public async Task Create_invalid_rule_returns_400_naming_field(string body, string field, string rule)
    {
        var (client, _, rules) = await FlagAsync();
        await (await client.PostRawAsync(rules, body)).ShouldBeValidationErrorAsync(field, rule);
    }

    [Fact]
    public async Task Create_rule_value_over_1024_characters_returns_400()
    {
        var (client, _, rules) = await FlagAsync();
        await (await client.PostJsonAsync(rules, new { rule_type = "user_id", rule_value = new string('u', 1025) }))
            .ShouldBeValidationErrorAsync("rule_value", "1024");
        (await client.PostJsonAsync(rules, new { rule_type = "user_id", rule_value = new string('u', 1024) }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task List_orders_by_priority_descending_then_oldest_first()
    {
        var (client, _, rules) = await FlagAsync();
        foreach (var (value, priority) in new[] { ("low", 1), ("high-old", 10), ("mid", 5), ("high-new", 10) })
        {
            (await client.PostJsonAsync(rules, new { rule_type = "user_id", rule_value = value, priority })).EnsureSuccessStatusCode();
        }

        var list = JsonNode.Parse(await client.GetStringAsync(rules))!.AsArray();

        list.Select(r => r!["rule_value"]!.GetValue<string>()).Should().Equal("high-old", "high-new", "mid", "low");
    }

    [Fact]
    public async Task Update_is_partial_and_revalidated_for_the_rules_type()
    {
        var (client, _, rules) = await FlagAsync();
        var rule = await (await client.PostJsonAsync(rules, new { rule_type = "email_domain", rule_value = "@example.com", priority = 3 })).ReadObjectAsync();
        var url = $"{rules}/{rule["id"]}";

        var updated = await client.PutJsonAsync(url, new { enabled = false, rule_type = "email_domain" });
        updated.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await updated.ReadObjectAsync();
        body["enabled"]!.GetValue<bool>().Should().BeFalse();
        body["rule_value"]!.GetValue<string>().Should().Be("@example.com");
        body["priority"]!.GetValue<int>().Should().Be(3);
        body["updated_at"]!.GetValue<DateTime>().Should().BeAfter(rule["updated_at"]!.GetValue<DateTime>());

        await (await client.PutJsonAsync(url, new { rule_value = "example.org" })).ShouldBeValidationErrorAsync("rule_value", "@");
        await (await client.PutJsonAsync(url, new { rule_type = "user_email", rule_value = "nobody" })).ShouldBeValidationErrorAsync("rule_value", "@");
        await (await client.PutJsonAsync(url, new { rule_type = "attribute_match" })).ShouldBeValidationErrorAsync("conditions", "required");
        await (await client.PutJsonAsync(url, new { rule_type = "segment_of_one" })).ShouldBeValidationErrorAsync("rule_type", "must be one of");
        await (await client.PutJsonAsync(url, new { })).ShouldBeValidationErrorAsync("body", "at least one of");
        await (await client.PutJsonAsync(url, new { rollout_percentage = -1 })).ShouldBeValidationErrorAsync("rollout_percentage", "from 0 to 100");
        await (await client.PutJsonAsync(url, new { conditions = new[] { new { attribute = "a", @operator = "exists" } } }))
            .ShouldBeValidationErrorAsync("conditions", "attribute_match");

        var after = await (await client.GetAsync(url)).ReadObjectAsync();
        after["rule_value"]!.GetValue<string>().Should().Be("@example.com", "rejected updates change nothing");
        after["enabled"]!.GetValue<bool>().Should().BeFalse();
    }

    [Fact]
    public async Task Update_may_change_the_rule_type_and_the_rule_is_validated_as_the_new_type()
    {
        var (client, _, rules) = await FlagAsync();
        var rule = await (await client.PostJsonAsync(rules, new { rule_type = "user_id", rule_value = "alice@example.com" })).ReadObjectAsync();
        var url = $"{rules}/{rule["id"]}";

        // The value is kept and re-validated for the new type.
        var asEmail = await (await client.PutJsonAsync(url, new { rule_type = "user_email" })).ReadObjectAsync();
        asEmail["rule_type"]!.GetValue<string>().Should().Be("user_email");
        asEmail["rule_value"]!.GetValue<string>().Should().Be("alice@example.com");

        var asAttributes = await client.PutJsonAsync(url, new
        {
            rule_type = "attribute_match",
            conditions = new[] { new { attribute = "plan", @operator = "equals", values = new[] { "pro" } } },
        });
        asAttributes.StatusCode.Should().Be(HttpStatusCode.OK, await asAttributes.Content.ReadAsStringAsync());
        var body = await asAttributes.ReadObjectAsync();
        body["rule_value"].Should().BeNull();
        body["conditions"]!.AsArray().Should().HaveCount(1);

        // Back to a value rule: the conditions go, a value is needed.
        await (await client.PutJsonAsync(url, new { rule_type = "email_domain" })).ShouldBeValidationErrorAsync("rule_value", "required");
        var asDomain = await (await client.PutJsonAsync(url, new { rule_type = "email_domain", rule_value = "@example.com" })).ReadObjectAsync();
        asDomain["conditions"].Should().BeNull();
        asDomain["rule_value"]!.GetValue<string>().Should().Be("@example.com");
    }

    [Fact]
    public async Task Update_attribute_rule_conditions_and_rollout()
    {
        var (client, _, rules) = await FlagAsync();
        var rule = await (await client.PostJsonAsync(rules, new
        {
            rule_type = "attribute_match",
            conditions = new[] { new { attribute = "plan", @operator = "equals", values = new[] { "pro" } } },
        })).ReadObjectAsync();
        var url = $"{rules}/{rule["id"]}";

        var updated = await (await client.PutJsonAsync(url, new
        {
            rollout_percentage = 20,
            conditions = new[] { new { attribute = "country", @operator = "in", values = new[] { "FR", "DE" } } },
        })).ReadObjectAsync();

        updated["rollout_percentage"]!.GetValue<int>().Should().Be(20);
        updated["conditions"]![0]!["attribute"]!.GetValue<string>().Should().Be("country");
        await (await client.PutJsonAsync(url, new { rule_value = "x" })).ShouldBeValidationErrorAsync("rule_value", "attribute_match");
        await (await client.PutJsonAsync(url, new { conditions = Array.Empty<object>() })).ShouldBeValidationErrorAsync("conditions", "at least one");
    }

    [Fact]
    public async Task Delete_returns_204_then_404()
    {
        var (client, _, rules) = await FlagAsync();
        var rule = await (await client.PostJsonAsync(rules, new { rule_type = "user_id", rule_value = "u" })).ReadObjectAsync();
        (await client.DeleteAsync($"{rules}/{rule["id"]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await client.GetAsync($"{rules}/{rule["id"]}")).ShouldBeProblemAsync(404);
        await (await client.DeleteAsync($"{rules}/{rule["id"]}")).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Rules_of_other_flags_projects_and_users_are_404()
    {
        var (owner, flag, rules) = await FlagAsync();
        var rule = await (await owner.PostJsonAsync(rules, new { rule_type = "user_id", rule_value = "u" })).ReadObjectAsync();
        var ruleUrl = $"{rules}/{rule["id"]}";

        // A second flag of the same owner cannot address the first flag's rule.
        var otherFlag = await (await owner.PostJsonAsync(flag[..flag.LastIndexOf('/')], new { name = "G", key = "g" })).ReadObjectAsync();
        var viaOtherFlag = $"{flag[..flag.LastIndexOf('/')]}/{otherFlag["id"]}/rules/{rule["id"]}";
        await (await owner.GetAsync(viaOtherFlag)).ShouldBeProblemAsync(404);
        await (await owner.PutJsonAsync(viaOtherFlag, new { enabled = false })).ShouldBeProblemAsync(404);
        await (await owner.DeleteAsync(viaOtherFlag)).ShouldBeProblemAsync(404);

        var intruder = await app.AuthenticatedClientAsync();
        await (await intruder.GetAsync(rules)).ShouldBeProblemAsync(404);
        await (await intruder.PostJsonAsync(rules, new { rule_type = "user_id", rule_value = "me" })).ShouldBeProblemAsync(404);
        await (await intruder.GetAsync(ruleUrl)).ShouldBeProblemAsync(404);
        await (await intruder.PutJsonAsync(ruleUrl, new { enabled = false })).ShouldBeProblemAsync(404);
        await (await intruder.DeleteAsync(ruleUrl)).ShouldBeProblemAsync(404);

        var after = await (await owner.GetAsync(ruleUrl)).ReadObjectAsync();
        after.ToJsonString().Should().Be(rule.ToJsonString());
        JsonNode.Parse(await owner.GetStringAsync(rules))!.AsArray().Should().HaveCount(1);
    }

    [Fact]
    public async Task Unknown_rule_and_malformed_ids()
    {
        var (client, _, rules) = await FlagAsync();
        await (await client.GetAsync($"{rules}/{Guid.NewGuid()}")).ShouldBeProblemAsync(404);
        await (await client.PutJsonAsync($"{rules}/{Guid.NewGuid()}", new { enabled = true })).ShouldBeProblemAsync(404);
        await (await client.GetAsync($"{rules}/123")).ShouldBeValidationErrorAsync("ruleId", "must be a UUID");
    }
}
