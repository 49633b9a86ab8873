using FlagService.Tests.Infrastructure;
using FluentAssertions;
using Xunit;
using static FlagService.Tests.Evaluation.TestData;

namespace FlagService.Tests.Evaluation;

public sealed class AttributeConditionTests
{
    [Theory]
    [InlineData("""["pro"]""", "\"pro\"", false, true)]
    [InlineData("""["pro"]""", "\"Pro\"", false, false)]
    [InlineData("""["pro"]""", "\"Pro\"", true, true)]
    [InlineData("""["pro"]""", "\"pro \"", false, false)]
    [InlineData("""["free","pro"]""", "\"pro\"", false, true)]
    [InlineData("""[""]""", "\"\"", false, true)]
    [InlineData("""["pro"]""", "\"\"", false, false)]
    [InlineData("""["30"]""", "30", false, true)]
    [InlineData("""[30]""", "\"30\"", false, true)]
    [InlineData("""[30]""", "\"30.0\"", false, true)]
    [InlineData("""[30]""", "30.0", false, true)]
    [InlineData("""["30"]""", "\"30.0\"", false, false)]
    [InlineData("""["true"]""", "true", false, true)]
    [InlineData("""[true]""", "true", false, true)]
    [InlineData("""[true]""", "\"true\"", false, true)]
    [InlineData("""["True"]""", "true", false, false)]
    [InlineData("""["True"]""", "true", true, true)]
    [InlineData("""["false"]""", "true", false, false)]
    [InlineData("""["caf\u00e9"]""", "\"café\"", false, true)]
    [InlineData("""["café"]""", "\"caf\\u00e9\"", false, true)]
    [InlineData("""["ÉTÉ"]""", "\"été\"", true, true)]
    public void Matches_equals_compares_by_type_rules(string values, string contextValue, bool ignoreCase, bool expected)
    {
        Matches(Condition("a", "equals", values, ignoreCase: ignoreCase), $$"""{"a":{{contextValue}}}""").Should().Be(expected);
    }

    [Theory]
    [InlineData("\"FR\"", true)]
    [InlineData("\"fr\"", false)]
    [InlineData("\"US\"", false)]
    [InlineData("1", false)]
    public void Matches_in_is_true_when_any_value_equals(string contextValue, bool expected)
    {
        Matches(Condition("country", "in", """["FR","DE"]"""), $$"""{"country":{{contextValue}}}""").Should().Be(expected);
    }

    [Fact]
    public void Matches_in_with_ignore_case_uses_case_insensitive_set()
    {
        var condition = Condition("country", "in", """["FR","DE"]""", ignoreCase: true);

        Matches(condition, """{"country":"de"}""").Should().BeTrue();
        Matches(condition, """{"country":"dE"}""").Should().BeTrue();
        Matches(condition, """{"country":"es"}""").Should().BeFalse();
    }

    [Theory]
    [InlineData("contains", """["beta"]""", "my-beta-group", false, true)]
    [InlineData("contains", """["BETA"]""", "my-beta-group", false, false)]
    [InlineData("contains", """["BETA"]""", "my-beta-group", true, true)]
    [InlineData("contains", """["x","group"]""", "my-beta-group", false, true)]
    [InlineData("contains", """[""]""", "", false, true)]
    [InlineData("starts_with", """["my-"]""", "my-beta-group", false, true)]
    [InlineData("starts_with", """["beta"]""", "my-beta-group", false, false)]
    [InlineData("starts_with", """["MY-"]""", "my-beta-group", true, true)]
    [InlineData("ends_with", """["group"]""", "my-beta-group", false, true)]
    [InlineData("ends_with", """["my"]""", "my-beta-group", false, false)]
    [InlineData("ends_with", """["x","GROUP"]""", "my-beta-group", true, true)]
    public void Matches_text_operator_matches_any_value(string op, string values, string contextValue, bool ignoreCase, bool expected)
    {
        Matches(Condition("team", op, values, ignoreCase: ignoreCase), $$"""{"team":"{{contextValue}}"}""").Should().Be(expected);
    }

    [Theory]
    [InlineData("contains")]
    [InlineData("starts_with")]
    [InlineData("ends_with")]
    [InlineData("matches")]
    public void Matches_text_operator_on_number_or_bool_never_matches_even_negated(string op)
    {
        foreach (var negate in new[] { false, true })
        {
            Matches(Condition("a", op, """["1"]""", negate), """{"a":1}""").Should().BeFalse();
            Matches(Condition("a", op, """["t"]""", negate), """{"a":true}""").Should().BeFalse();
        }
    }

    [Theory]
    [InlineData("^v[0-9]+$", "v42", false, true)]
    [InlineData("^v[0-9]+$", "V42", false, false)]
    [InlineData("^v[0-9]+$", "V42", true, true)]
    [InlineData("^v[0-9]+$", "v42x", false, false)]
    [InlineData("beta", "the-beta-team", false, true)]
    [InlineData("^$", "", false, true)]
    public void Matches_regex_searches_the_value(string pattern, string contextValue, bool ignoreCase, bool expected)
    {
        var values = $"[\"{pattern}\"]";

        Matches(Condition("a", "matches", values, ignoreCase: ignoreCase), $$"""{"a":"{{contextValue}}"}""").Should().Be(expected);
    }

    [Fact]
    public async Task Matches_catastrophic_backtracking_pattern_on_30k_chars_finishes()
    {
        var attributes = $$"""{"a":"{{new string('a', 30_000)}}b"}""";
        var condition = Condition("a", "matches", """["^(a+)+$"]""");
        Matches(condition, """{"a":"aaa"}""").Should().BeTrue();

        // Backtracking would take longer than the universe has left: any patience tells the two apart,
        // so a generous one, which a busy machine cannot exhaust.
        var matched = await Task.Run(() => Matches(condition, attributes)).WaitAsync(Eventually.Patience);

        matched.Should().BeFalse();
    }

    [Fact]
    public void Matches_context_string_longer_than_stack_buffer_is_compared_whole()
    {
        var value = new string('x', 1000) + "-end";

        Matches(Condition("a", "ends_with", """["x-end"]"""), $$"""{"a":"{{value}}"}""").Should().BeTrue();
        Matches(Condition("a", "equals", $"[\"{value}\"]"), $$"""{"a":"{{value}}"}""").Should().BeTrue();
    }

    [Theory]
    [InlineData("gt", "10", "11", true)]
    [InlineData("gt", "10", "10", false)]
    [InlineData("gte", "10", "10", true)]
    [InlineData("gte", "10", "9.99", false)]
    [InlineData("lt", "10", "9.5", true)]
    [InlineData("lt", "10", "10", false)]
    [InlineData("lte", "10", "10", true)]
    [InlineData("lte", "10", "10.01", false)]
    [InlineData("gt", "10", "\"11\"", true)]
    [InlineData("gt", "10", "\"1e3\"", true)]
    [InlineData("gt", "10", "\" 11 \"", true)]
    [InlineData("gt", "10", "\"-11\"", false)]
    [InlineData("gt", "\"10\"", "11", true)]
    [InlineData("gt", "\"2.5\"", "2.6", true)]
    [InlineData("lt", "0", "-0.5", true)]
    public void Matches_number_operator_compares_numerically(string op, string bound, string contextValue, bool expected)
    {
        Matches(Condition("n", op, $"[{bound}]"), $$"""{"n":{{contextValue}}}""").Should().Be(expected);
    }

    [Theory]
    [InlineData("\"abc\"")]
    [InlineData("\"\"")]
    [InlineData("\"1,5\"")]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("true")]
    [InlineData("{\"x\":1}")]
    public void Matches_number_operator_on_non_number_never_matches_even_negated(string contextValue)
    {
        var attributes = $$"""{"n":{{contextValue}}}""";

        Matches(Condition("n", "gt", "[0]"), attributes).Should().BeFalse();
        Matches(Condition("n", "gt", "[0]", negate: true), attributes).Should().BeFalse();
    }

    [Theory]
    [InlineData("semver_eq", "1.2.3", "1.2.3", true)]
    [InlineData("semver_eq", "1.2.3", "v1.2.3+build.7", true)]
    [InlineData("semver_eq", "1.2.3", "1.2.3-rc.1", false)]
    [InlineData("semver_gt", "1.9.0", "1.10.0", true)]
    [InlineData("semver_gt", "1.2.3", "1.2.3", false)]
    [InlineData("semver_gte", "2.4.0", "2.4.0", true)]
    [InlineData("semver_gte", "2.4.0", "2.4.0-rc.1", false)]
    [InlineData("semver_gte", "2.4.0", "10.0.0", true)]
    [InlineData("semver_lt", "1.0.0", "1.0.0-alpha", true)]
    [InlineData("semver_lt", "1.0.0-beta.11", "1.0.0-beta.2", true)]
    [InlineData("semver_lt", "1.0.0-alpha.beta", "1.0.0-alpha.1", true)]
    [InlineData("semver_lt", "1.0.0-alpha.1", "1.0.0-alpha", true)]
    [InlineData("semver_lte", "1.0.0-rc.1", "1.0.0-rc.1+meta", true)]
    [InlineData("semver_lte", "1.0.0-rc.1", "1.0.0", false)]
    public void Matches_semver_operator_uses_semver_precedence(string op, string bound, string contextValue, bool expected)
    {
        Matches(Condition("v", op, $"[\"{bound}\"]"), $$"""{"v":"{{contextValue}}"}""").Should().Be(expected);
    }

    [Fact]
    public void Matches_semver_prerelease_chain_is_strictly_ascending()
    {
        string[] chain =
        [
            "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
        ];
        for (var i = 1; i < chain.Length; i++)
        {
            var condition = Condition("v", "semver_gt", $"[\"{chain[i - 1]}\"]");
            Matches(condition, $$"""{"v":"{{chain[i]}}"}""").Should().BeTrue($"{chain[i]} > {chain[i - 1]}");
            Matches(Condition("v", "semver_lt", $"[\"{chain[i]}\"]"), $$"""{"v":"{{chain[i - 1]}}"}""").Should().BeTrue();
        }
    }

    [Fact]
    public void Matches_semver_eq_with_several_values_matches_any()
    {
        Matches(Condition("v", "semver_eq", """["1.0.0","2.0.0"]"""), """{"v":"2.0.0"}""").Should().BeTrue();
    }

    [Theory]
    [InlineData("\"1.2\"")]
    [InlineData("\"latest\"")]
    [InlineData("\"\"")]
    [InlineData("2")]
    [InlineData("\"01.2.3\"")]
    public void Matches_semver_operator_on_invalid_version_never_matches_even_negated(string contextValue)
    {
        var attributes = $$"""{"v":{{contextValue}}}""";

        Matches(Condition("v", "semver_gte", """["0.0.0"]"""), attributes).Should().BeFalse();
        Matches(Condition("v", "semver_gte", """["0.0.0"]""", negate: true), attributes).Should().BeFalse();
    }

    [Theory]
    [InlineData("before", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00+02:00", true)]
    [InlineData("after", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00+02:00", false)]
    [InlineData("after", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00-00:30", true)]
    [InlineData("before", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z", false)]
    [InlineData("after", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z", false)]
    [InlineData("before", "2026-03-01T00:00:00Z", "2026-02-28T23:59:59.999Z", true)]
    [InlineData("after", "2026-03-01", "2026-03-01T00:00:00.000001Z", true)]
    [InlineData("before", "2026-03-01T02:00:00+02:00", "2026-02-28T23:59:00", true)]
    [InlineData("after", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+02:00", false)]
    public void Matches_instant_operator_compares_instants_across_offsets(string op, string bound, string contextValue, bool expected)
    {
        Matches(Condition("d", op, $"[\"{bound}\"]"), $$"""{"d":"{{contextValue}}"}""").Should().Be(expected);
    }

    [Theory]
    [InlineData("\"yesterday\"")]
    [InlineData("\"03/01/2026\"")]
    [InlineData("\"2026-03-01 00:00:00Z\"")]
    [InlineData("1767225600")]
    public void Matches_instant_operator_on_non_instant_never_matches_even_negated(string contextValue)
    {
        var attributes = $$"""{"d":{{contextValue}}}""";

        Matches(Condition("d", "before", """["2100-01-01T00:00:00Z"]"""), attributes).Should().BeFalse();
        Matches(Condition("d", "before", """["2100-01-01T00:00:00Z"]""", negate: true), attributes).Should().BeFalse();
    }

    [Theory]
    [InlineData("""{"a":"x"}""", false, true)]
    [InlineData("""{"a":""}""", false, true)]
    [InlineData("""{"a":0}""", false, true)]
    [InlineData("""{"a":false}""", false, true)]
    [InlineData("""{"a":{}}""", false, true)]
    [InlineData("""{"a":[null,1]}""", false, true)]
    [InlineData("""{"a":null}""", false, false)]
    [InlineData("""{"a":[]}""", false, false)]
    [InlineData("""{"a":[null]}""", false, false)]
    [InlineData("""{"b":"x"}""", false, false)]
    [InlineData(null, false, false)]
    [InlineData("""{"a":"x"}""", true, false)]
    [InlineData("""{"a":null}""", true, true)]
    [InlineData("""{"b":"x"}""", true, true)]
    [InlineData(null, true, true)]
    public void Matches_exists_tests_presence(string? attributes, bool negate, bool expected)
    {
        Matches(Condition("a", "exists", negate: negate), attributes).Should().Be(expected);
    }

    [Theory]
    [InlineData("equals", """["pro"]""")]
    [InlineData("in", """["pro"]""")]
    [InlineData("contains", """["p"]""")]
    [InlineData("matches", """[".*"]""")]
    [InlineData("gt", "[0]")]
    [InlineData("semver_lt", """["9.9.9"]""")]
    [InlineData("after", """["2000-01-01"]""")]
    public void Matches_missing_or_null_attribute_never_matches_negated_or_not(string op, string values)
    {
        foreach (var attributes in new[] { null, "{}", """{"a":null}""", """{"a":[]}""" })
        {
            Matches(Condition("a", op, values), attributes).Should().BeFalse();
            Matches(Condition("a", op, values, negate: true), attributes).Should().BeFalse();
        }
    }

    [Theory]
    [InlineData("\"pro\"", false)]
    [InlineData("\"free\"", true)]
    [InlineData("\"\"", true)]
    public void Matches_negated_condition_on_present_value_inverts(string contextValue, bool expected)
    {
        Matches(Condition("plan", "equals", """["pro"]""", negate: true), $$"""{"plan":{{contextValue}}}""").Should().Be(expected);
    }

    [Theory]
    [InlineData("""["FR","US"]""", false, true)]
    [InlineData("""["US","ES"]""", false, false)]
    [InlineData("""["FR","US"]""", true, false)]
    [InlineData("""["US","ES"]""", true, true)]
    [InlineData("""[1, true, "DE"]""", false, true)]
    [InlineData("""[["FR"]]""", false, false)]
    [InlineData("""[["FR"]]""", true, false)]
    public void Matches_array_value_matches_when_any_element_matches(string array, bool negate, bool expected)
    {
        Matches(Condition("countries", "in", """["FR","DE"]""", negate), $$"""{"countries":{{array}}}""").Should().Be(expected);
    }

    [Fact]
    public void Matches_array_without_comparable_element_never_matches_even_negated()
    {
        Matches(Condition("n", "gt", "[5]"), """{"n":["a", true]}""").Should().BeFalse();
        Matches(Condition("n", "gt", "[5]", negate: true), """{"n":["a", true]}""").Should().BeFalse();
        Matches(Condition("n", "gt", "[5]"), """{"n":["a", 6]}""").Should().BeTrue();
        Matches(Condition("n", "gt", "[5]", negate: true), """{"n":["a", 4]}""").Should().BeTrue();
    }

    [Fact]
    public void Matches_built_in_attributes_read_user_id_and_email()
    {
        Matches(Condition("user_id", "starts_with", """["user_"]"""), userId: "user_42").Should().BeTrue();
        Matches(Condition("user_email", "ends_with", """["@EXAMPLE.com"]""", ignoreCase: true), email: "jo@example.com").Should().BeTrue();
        Matches(Condition("user_id", "exists")).Should().BeFalse();
        Matches(Condition("user_id", "exists"), userId: "").Should().BeFalse();
        Matches(Condition("user_id", "exists", negate: true), email: "jo@example.com").Should().BeTrue();
        Matches(Condition("user_id", "equals", """["x"]""", negate: true)).Should().BeFalse();
    }

    [Fact]
    public void Matches_built_in_attribute_wins_over_custom_attribute_of_same_name()
    {
        Matches(Condition("user_id", "equals", """["real"]"""), """{"user_id":"fake"}""", userId: "real").Should().BeTrue();
        Matches(Condition("user_id", "equals", """["fake"]"""), """{"user_id":"fake"}""").Should().BeFalse();
    }

    [Fact]
    public void Matches_all_conditions_must_match()
    {
        var conditions = """
            [{"attribute":"plan","operator":"in","values":["pro","enterprise"]},
             {"attribute":"app_version","operator":"semver_gte","values":["2.4.0"]},
             {"attribute":"country","operator":"in","values":["FR","DE"],"negate":true}]
            """;

        Matches(conditions, """{"plan":"pro","app_version":"2.4.1","country":"US"}""").Should().BeTrue();
        Matches(conditions, """{"plan":"pro","app_version":"2.4.1","country":"FR"}""").Should().BeFalse();
        Matches(conditions, """{"plan":"pro","app_version":"2.3.9","country":"US"}""").Should().BeFalse();
        Matches(conditions, """{"plan":"pro","app_version":"2.4.1"}""").Should().BeFalse();
    }

    [Fact]
    public void Matches_conditions_without_negate_or_ignore_case_default_to_false()
    {
        Matches("""[{"attribute":"plan","operator":"equals","values":["pro"]}]""", """{"plan":"pro"}""").Should().BeTrue();
        Matches("""[{"attribute":"plan","operator":"equals","values":["pro"]}]""", """{"plan":"PRO"}""").Should().BeFalse();
    }
}
