using System.Text.Json;
using FlagService.Features.Evaluation;
using FluentAssertions;
using Xunit;
using static FlagService.Tests.Evaluation.TestData;

namespace FlagService.Tests.Evaluation;

public sealed class RuleValidationTests
{
    [Theory]
    [InlineData("user_id", "user_42")]
    [InlineData("user_id", "  user_42  ")]
    [InlineData("user_email", "alice@example.com")]
    [InlineData("email_domain", "@example.com")]
    [InlineData("email_domain", "@x")]
    [InlineData("segment", "beta_testers")]
    public void ValidateRuleValue_valid_value_returns_no_errors(string ruleType, string value)
    {
        RuleValidation.ValidateRuleValue(ruleType, value).Should().BeEmpty();
    }

    [Theory]
    [InlineData("user_id", null, "is required")]
    [InlineData("user_id", "   ", "must not be empty")]
    [InlineData("user_email", "alice.example.com", "must contain '@' for a user_email rule")]
    [InlineData("email_domain", "example.com", "must start with '@' followed by the domain for an email_domain rule, e.g. @example.com")]
    [InlineData("email_domain", " @ ", "must start with '@' followed by the domain for an email_domain rule, e.g. @example.com")]
    [InlineData("attribute_match", "x", "must be null for an attribute_match rule; the targeting goes in conditions")]
    [InlineData("segment", "Beta testers", "must be the key of one of the project's segments for a segment rule")]
    public void ValidateRuleValue_invalid_value_names_rule_value(string ruleType, string? value, string message)
    {
        RuleValidation.ValidateRuleValue(ruleType, value).Should().BeEquivalentTo(Error("rule_value", message));
    }

    [Fact]
    public void ValidateRuleValue_over_1024_characters_is_rejected()
    {
        RuleValidation.ValidateRuleValue("user_id", new string('x', 1024)).Should().BeEmpty();
        RuleValidation.ValidateRuleValue("user_id", new string('x', 1025))
            .Should().BeEquivalentTo(Error("rule_value", "must be at most 1024 characters"));
    }

    [Fact]
    public void ValidateRuleValue_unknown_type_names_rule_type()
    {
        RuleValidation.ValidateRuleValue("country", "FR")
            .Should().BeEquivalentTo(Error("rule_type", "must be one of: user_id, user_email, email_domain, attribute_match, segment"));
    }

    [Fact]
    public void NormalizeRuleValue_trims()
    {
        RuleValidation.NormalizeRuleValue("  @Example.com ").Should().Be("@Example.com");
    }

    [Fact]
    public void ValidateRule_attribute_match_requires_conditions_and_no_rule_value()
    {
        RuleValidation.ValidateRule("attribute_match", "x", null).Should().BeEquivalentTo(new Dictionary<string, string[]>
        {
            ["conditions"] = ["is required for an attribute_match rule"],
            ["rule_value"] = ["must be null for an attribute_match rule; the targeting goes in conditions"],
        });
    }

    [Fact]
    public void ValidateRule_other_type_rejects_conditions()
    {
        RuleValidation.ValidateRule("user_id", "u", Json("""[{"attribute":"a","operator":"exists"}]"""))
            .Should().BeEquivalentTo(Error("conditions", "must be null unless rule_type is attribute_match"));
    }

    [Theory]
    [InlineData(null, "is required")]
    [InlineData("segments", "must be one of: user_id, user_email, email_domain, attribute_match, segment")]
    public void ValidateRule_missing_or_unknown_type_names_rule_type(string? ruleType, string message)
    {
        RuleValidation.ValidateRule(ruleType, "x", null).Should().BeEquivalentTo(Error("rule_type", message));
    }

    [Fact]
    public void ValidateRule_valid_inputs_return_no_errors()
    {
        RuleValidation.ValidateRule("user_email", "a@b.c", Json("null")).Should().BeEmpty();
        RuleValidation.ValidateRule("attribute_match", null, Json("""[{"attribute":"a","operator":"exists"}]""")).Should().BeEmpty();
    }

    [Fact]
    public void ValidateConditions_contract_example_is_valid()
    {
        var conditions = Json("""
            [{"attribute": "plan", "operator": "in", "values": ["pro", "enterprise"]},
             {"attribute": "app_version", "operator": "semver_gte", "values": ["2.4.0"]},
             {"attribute": "country", "operator": "in", "values": ["FR", "DE"], "negate": true}]
            """);

        RuleValidation.ValidateConditions(conditions).Should().BeEmpty();
    }

    [Theory]
    [InlineData("""[{"attribute":"a","operator":"equals","values":["x", 1, 2.5, true]}]""")]
    [InlineData("""[{"attribute":"a","operator":"in","values":["x"],"negate":null,"ignore_case":true}]""")]
    [InlineData("""[{"attribute":"a","operator":"contains","values":["x","y"]}]""")]
    [InlineData("""[{"attribute":"a","operator":"matches","values":["^(a+)+$","[a-z]{2,3}"]}]""")]
    [InlineData("""[{"attribute":"a","operator":"gt","values":["-1.5e3"]}]""")]
    [InlineData("""[{"attribute":"a","operator":"lte","values":[42]}]""")]
    [InlineData("""[{"attribute":"a","operator":"semver_eq","values":["1.0.0","v2.0.0-rc.1+b"]}]""")]
    [InlineData("""[{"attribute":"a","operator":"before","values":["2026-03-01T00:00:00+02:00"]}]""")]
    [InlineData("""[{"attribute":"a","operator":"after","values":["2026-03-01"]}]""")]
    [InlineData("""[{"attribute":"a","operator":"exists","values":[]}]""")]
    [InlineData("""[{"attribute":"a","operator":"exists","values":null,"negate":true}]""")]
    public void ValidateConditions_valid_condition_returns_no_errors(string json)
    {
        RuleValidation.ValidateConditions(Json(json)).Should().BeEmpty();
    }

    [Theory]
    [InlineData("null", "conditions", "is required for an attribute_match rule")]
    [InlineData("{}", "conditions", "must be an array of conditions")]
    [InlineData("[]", "conditions", "must contain at least one condition")]
    [InlineData("[1]", "conditions[0]", "must be an object with attribute, operator and values")]
    [InlineData("""[{"operator":"exists"}]""", "conditions[0].attribute", "is required")]
    [InlineData("""[{"attribute":5,"operator":"exists"}]""", "conditions[0].attribute", "must be a string")]
    [InlineData("""[{"attribute":"  ","operator":"exists"}]""", "conditions[0].attribute", "must not be empty")]
    [InlineData("""[{"attribute":"a"}]""", "conditions[0].operator", "is required")]
    [InlineData("""[{"attribute":"a","operator":"negate","values":["x"]}]""", "conditions[0].operator",
        "must be one of: equals, in, contains, starts_with, ends_with, matches, gt, gte, lt, lte, semver_eq, semver_gt, semver_gte, semver_lt, semver_lte, before, after, exists")]
    [InlineData("""[{"attribute":"a","operator":"EQUALS","values":["x"]}]""", "conditions[0].operator",
        "must be one of: equals, in, contains, starts_with, ends_with, matches, gt, gte, lt, lte, semver_eq, semver_gt, semver_gte, semver_lt, semver_lte, before, after, exists")]
    [InlineData("""[{"attribute":"a","operator":"equals"}]""", "conditions[0].values", "must contain at least one value")]
    [InlineData("""[{"attribute":"a","operator":"equals","values":[]}]""", "conditions[0].values", "must contain at least one value")]
    [InlineData("""[{"attribute":"a","operator":"equals","values":"x"}]""", "conditions[0].values", "must be an array of values")]
    [InlineData("""[{"attribute":"a","operator":"exists","values":["x"]}]""", "conditions[0].values", "must be empty for the exists operator")]
    [InlineData("""[{"attribute":"a","operator":"gt","values":[1,2]}]""", "conditions[0].values", "must contain exactly one value for the gt operator")]
    [InlineData("""[{"attribute":"a","operator":"equals","values":[null]}]""", "conditions[0].values[0]", "must be a string, a number or a boolean")]
    [InlineData("""[{"attribute":"a","operator":"in","values":["x",{"y":1}]}]""", "conditions[0].values[1]", "must be a string, a number or a boolean")]
    [InlineData("""[{"attribute":"a","operator":"equals","values":[1e400]}]""", "conditions[0].values[0]", "must be a finite number")]
    [InlineData("""[{"attribute":"a","operator":"contains","values":[1]}]""", "conditions[0].values[0]", "must be a string")]
    [InlineData("""[{"attribute":"a","operator":"matches","values":[true]}]""", "conditions[0].values[0]", "must be a string")]
    [InlineData("""[{"attribute":"a","operator":"matches","values":["(a)\\1"]}]""", "conditions[0].values[0]",
        "must be a regular expression without backreferences, lookarounds or atomic groups (linear-time engine)")]
    [InlineData("""[{"attribute":"a","operator":"matches","values":["(?=a)a"]}]""", "conditions[0].values[0]",
        "must be a regular expression without backreferences, lookarounds or atomic groups (linear-time engine)")]
    [InlineData("""[{"attribute":"a","operator":"gte","values":["ten"]}]""", "conditions[0].values[0]", "must be a number or a numeric string for the gte operator")]
    [InlineData("""[{"attribute":"a","operator":"lt","values":[true]}]""", "conditions[0].values[0]", "must be a number or a numeric string for the lt operator")]
    [InlineData("""[{"attribute":"a","operator":"semver_gte","values":["2.4"]}]""", "conditions[0].values[0]",
        "must be a semantic version such as 2.4.0 or 1.0.0-beta.1 for the semver_gte operator")]
    [InlineData("""[{"attribute":"a","operator":"semver_eq","values":["1.0.0",1]}]""", "conditions[0].values[1]",
        "must be a semantic version such as 2.4.0 or 1.0.0-beta.1 for the semver_eq operator")]
    [InlineData("""[{"attribute":"a","operator":"before","values":["tomorrow"]}]""", "conditions[0].values[0]",
        "must be an ISO 8601 instant such as 2026-03-01T00:00:00Z for the before operator")]
    [InlineData("""[{"attribute":"a","operator":"after","values":[1767225600]}]""", "conditions[0].values[0]",
        "must be an ISO 8601 instant such as 2026-03-01T00:00:00Z for the after operator")]
    [InlineData("""[{"attribute":"a","operator":"exists","negate":"yes"}]""", "conditions[0].negate", "must be true or false")]
    [InlineData("""[{"attribute":"a","operator":"exists","ignore_case":1}]""", "conditions[0].ignore_case", "must be true or false")]
    [InlineData("""[{"attribute":"a","operator":"exists","negated":true}]""", "conditions[0].negated",
        "is not a known field; use attribute, operator, values, negate, ignore_case")]
    public void ValidateConditions_invalid_input_names_the_field_and_rule(string json, string field, string message)
    {
        RuleValidation.ValidateConditions(Json(json)).Should().BeEquivalentTo(Error(field, message));
    }

    [Fact]
    public void ValidateConditions_absent_conditions_is_required()
    {
        RuleValidation.ValidateConditions(null).Should().BeEquivalentTo(Error("conditions", "is required for an attribute_match rule"));
    }

    [Fact]
    public void ValidateConditions_invalid_regex_reports_the_parser_message()
    {
        var errors = RuleValidation.ValidateConditions(Json("""[{"attribute":"a","operator":"matches","values":["(ab"]}]"""));

        errors.Should().ContainKey("conditions[0].values[0]")
            .WhoseValue.Should().ContainSingle().Which.Should().StartWith("must be a valid regular expression: ");
    }

    [Fact]
    public void ValidateConditions_error_in_third_condition_names_its_index()
    {
        var json = """
            [{"attribute":"a","operator":"exists"},{"attribute":"b","operator":"exists"},
             {"attribute":"c","operator":"is","values":["x"]}]
            """;

        RuleValidation.ValidateConditions(Json(json)).Keys.Should().Equal("conditions[2].operator");
    }

    [Fact]
    public void ValidateConditions_limits_conditions_values_and_lengths()
    {
        var condition = """{"attribute":"a","operator":"exists"}""";
        RuleValidation.ValidateConditions(Json($"[{string.Join(',', Enumerable.Repeat(condition, 20))}]")).Should().BeEmpty();
        RuleValidation.ValidateConditions(Json($"[{string.Join(',', Enumerable.Repeat(condition, 21))}]"))
            .Should().BeEquivalentTo(Error("conditions", "must contain at most 20 conditions"));

        Values(1000).Should().BeEmpty();
        Values(1001).Should().BeEquivalentTo(Error("conditions[0].values", "must contain at most 1000 values"));

        Single($$"""{"attribute":"{{new string('a', 255)}}","operator":"exists"}""").Should().BeEmpty();
        Single($$"""{"attribute":"{{new string('a', 256)}}","operator":"exists"}""")
            .Should().BeEquivalentTo(Error("conditions[0].attribute", "must be at most 255 characters"));

        Single($$"""{"attribute":"a","operator":"equals","values":["{{new string('v', 1025)}}"]}""")
            .Should().BeEquivalentTo(Error("conditions[0].values[0]", "must be at most 1024 characters"));

        Single($$"""{"attribute":"a","operator":"matches","values":["{{new string('a', 256)}}"]}""").Should().BeEmpty();
        Single($$"""{"attribute":"a","operator":"matches","values":["{{new string('a', 257)}}"]}""")
            .Should().BeEquivalentTo(Error("conditions[0].values[0]", "must be a regular expression of at most 256 characters"));
    }

    [Fact]
    public void ValidateConditions_reports_every_failing_field()
    {
        var json = """[{"attribute":"","operator":"gt","values":["x"],"negate":"no"},{"attribute":"b","operator":"lt","values":["y"]}]""";

        RuleValidation.ValidateConditions(Json(json)).Keys.Should().BeEquivalentTo(
            "conditions[0].attribute", "conditions[0].negate", "conditions[0].values[0]", "conditions[1].values[0]");
    }

    [Fact]
    public void NormalizeConditions_writes_every_field_in_fixed_order()
    {
        var json = Json("""
            [{"values":["pro", 2, 1.50, true],"operator":"in","attribute":" plan "},
             {"attribute":"beta","operator":"exists","negate":true},
             {"attribute":"name","operator":"equals","values":["caf\u00e9 \"x\""],"ignore_case":true}]
            """);

        RuleValidation.NormalizeConditions(json).Should().Be(
            """[{"attribute":"plan","operator":"in","values":["pro",2,1.50,true],"negate":false,"ignore_case":false},"""
            + """{"attribute":"beta","operator":"exists","values":[],"negate":true,"ignore_case":false},"""
            + """{"attribute":"name","operator":"equals","values":["caf\u00E9 \u0022x\u0022"],"negate":false,"ignore_case":true}]""");
    }

    [Fact]
    public void NormalizeConditions_output_compiles_to_the_same_behaviour()
    {
        var normalized = RuleValidation.NormalizeConditions(Json("""[{"attribute":" plan ","operator":"in","values":["pro"]}]"""));

        Matches(normalized, """{"plan":"pro"}""").Should().BeTrue();
        RuleValidation.ValidateConditions(Json(normalized)).Should().BeEmpty();
    }

    [Fact]
    public void NormalizeConditions_invalid_input_throws()
    {
        var act = () => RuleValidation.NormalizeConditions(Json("[]"));

        act.Should().Throw<ArgumentException>();
    }

    private static Dictionary<string, string[]> Error(string field, string message) => new() { [field] = [message] };

    private static Dictionary<string, string[]> Single(string condition) => RuleValidation.ValidateConditions(Json($"[{condition}]"));

    private static Dictionary<string, string[]> Values(int count)
    {
        var values = JsonSerializer.Serialize(Enumerable.Range(0, count).Select(i => $"v{i}"));
        return Single($$"""{"attribute":"a","operator":"in","values":{{values}}}""");
    }
}
