using FlagService.Features.Evaluation;
using FluentAssertions;
using Xunit;
using static FlagService.Tests.Evaluation.TestData;

namespace FlagService.Tests.Evaluation;

public sealed class CompiledFlagTests
{
    private static readonly EvaluationContext User12345 = Context("user_12345");

    [Fact]
    public void Evaluate_disabled_flag_returns_false_disabled_even_when_a_rule_matches()
    {
        var flag = Flag("dark_mode", enabled: false, rollout: 100, Rule(RuleTypes.UserId, "user_12345"));

        Evaluate(flag, User12345).Should().Be(EvaluationResult.Boolean(false, EvaluationReason.Disabled));
    }

    [Fact]
    public void Evaluate_matching_rule_returns_true_rule_match_with_rule_id()
    {
        var rule = Rule(RuleTypes.UserId, "user_12345");

        var result = Evaluate(Flag("dark_mode", rollout: 0, rule), User12345);

        result.Should().Be(EvaluationResult.Boolean(true, EvaluationReason.RuleMatch, rule.Id));
    }

    [Fact]
    public void Evaluate_no_rule_matches_falls_through_to_rollout_without_rule_id()
    {
        var result = Evaluate(Flag("dark_mode", rollout: 100, Rule(RuleTypes.UserId, "someone_else")), User12345);

        result.Should().Be(EvaluationResult.Boolean(true, EvaluationReason.Rollout));
    }

    [Fact]
    public void Evaluate_rollout_100_without_identifier_returns_true_rollout()
    {
        Evaluate(Flag(rollout: 100), Context()).Should().Be(EvaluationResult.Boolean(true, EvaluationReason.Rollout));
    }

    [Fact]
    public void Evaluate_rollout_0_returns_false_rollout_excluded_without_needing_an_identifier()
    {
        Evaluate(Flag(rollout: 0), User12345).Should().Be(EvaluationResult.Boolean(false, EvaluationReason.RolloutExcluded));
        Evaluate(Flag(rollout: 0), Context()).Should().Be(EvaluationResult.Boolean(false, EvaluationReason.RolloutExcluded));
    }

    [Fact]
    public void Evaluate_partial_rollout_without_identifier_returns_excluded_and_identifier_missing()
    {
        var result = Evaluate(Flag(rollout: 99), Context(attributes: """{"plan":"pro"}"""));

        result.Should().Be(EvaluationResult.Boolean(false, EvaluationReason.RolloutExcluded, null, IdentifierMissing: true));
    }

    [Theory]
    [InlineData(39, false)]
    [InlineData(40, true)]
    public void Evaluate_partial_rollout_includes_user_when_bucket_below_percentage(int rollout, bool expected)
    {
        // dark_mode:user_12345 falls in bucket 39.
        var result = Evaluate(Flag("dark_mode", rollout: rollout), User12345);

        result.Value.Should().Be(expected);
        result.Reason.Should().Be(expected ? EvaluationReason.Rollout : EvaluationReason.RolloutExcluded);
        result.IdentifierMissing.Should().BeFalse();
    }

    [Fact]
    public void Evaluate_out_of_range_percentages_are_clamped()
    {
        Evaluate(Flag(rollout: 150), Context()).Value.Should().BeTrue();
        Evaluate(Flag(rollout: -5), User12345).Value.Should().BeFalse();
    }

    [Fact]
    public void Evaluate_rules_in_any_order_highest_priority_decides()
    {
        var low = Rule(RuleTypes.UserId, "user_12345", priority: 1, rollout: 0);
        var high = Rule(RuleTypes.EmailDomain, "@example.com", priority: 10);
        var context = Context("user_12345", "jo@example.com");

        Evaluate(Flag(rules: [low, high]), context).RuleId.Should().Be(high.Id);
        Evaluate(Flag(rules: [high, low]), context).RuleId.Should().Be(high.Id);
    }

    [Fact]
    public void Evaluate_equal_priority_oldest_rule_decides()
    {
        var older = Rule(RuleTypes.UserId, "user_12345", priority: 5, createdAt: T0);
        var newer = Rule(RuleTypes.UserId, "user_12345", priority: 5, rollout: 0, createdAt: T0.AddSeconds(1));

        var result = Evaluate(Flag(rules: [newer, older]), User12345);

        result.Should().Be(EvaluationResult.Boolean(true, EvaluationReason.RuleMatch, older.Id));
    }

    [Fact]
    public void Evaluate_equal_priority_and_age_orders_by_id_deterministically()
    {
        var a = Rule(RuleTypes.UserId, "user_12345", id: Guid.Parse("00000000-0000-0000-0000-000000000001"));
        var b = Rule(RuleTypes.UserId, "user_12345", id: Guid.Parse("00000000-0000-0000-0000-000000000002"));

        Evaluate(Flag(rules: [b, a]), User12345).RuleId.Should().Be(a.Id);
        Evaluate(Flag(rules: [a, b]), User12345).RuleId.Should().Be(a.Id);
    }

    [Fact]
    public void Evaluate_disabled_rule_is_skipped()
    {
        var disabled = Rule(RuleTypes.UserId, "user_12345", priority: 100, enabled: false);
        var enabled = Rule(RuleTypes.UserId, "user_12345", priority: 1, rollout: 0);

        var result = Evaluate(Flag(rollout: 100, disabled, enabled), User12345);

        result.Should().Be(EvaluationResult.Boolean(false, EvaluationReason.RuleMatch, enabled.Id));
    }

    [Fact]
    public void Evaluate_matched_rule_at_0_percent_returns_false_rule_match_and_stops()
    {
        var rule = Rule(RuleTypes.UserId, "user_12345", rollout: 0);

        Evaluate(Flag(rollout: 100, rule), User12345).Should().Be(EvaluationResult.Boolean(false, EvaluationReason.RuleMatch, rule.Id));
    }

    [Fact]
    public void Evaluate_matched_rule_at_100_percent_without_identifier_returns_true()
    {
        var rule = AttributeRule(Condition("plan", "equals", """["pro"]"""));

        var result = Evaluate(Flag(rules: rule), Context(attributes: """{"plan":"pro"}"""));

        result.Should().Be(EvaluationResult.Boolean(true, EvaluationReason.RuleMatch, rule.Id));
    }

    [Fact]
    public void Evaluate_matched_partial_rule_without_identifier_returns_false_and_identifier_missing()
    {
        var rule = AttributeRule(Condition("plan", "equals", """["pro"]"""), rollout: 20);

        var result = Evaluate(Flag(rollout: 100, rule), Context(attributes: """{"plan":"pro"}"""));

        result.Should().Be(EvaluationResult.Boolean(false, EvaluationReason.RuleMatch, rule.Id, IdentifierMissing: true));
    }

    [Theory]
    [InlineData(39, false)]
    [InlineData(40, true)]
    public void Evaluate_partial_rule_uses_the_flag_bucket(int ruleRollout, bool expected)
    {
        var rule = Rule(RuleTypes.UserId, "user_12345", rollout: ruleRollout);

        Evaluate(Flag("dark_mode", rollout: 100, rule), User12345)
            .Should().Be(EvaluationResult.Boolean(expected, EvaluationReason.RuleMatch, rule.Id));
    }

    [Fact]
    public void Evaluate_twenty_percent_of_pro_users_includes_about_a_fifth()
    {
        var flag = CompiledFlag.Compile(Flag("pro_beta", rollout: 0, AttributeRule(Condition("plan", "in", """["pro"]"""), rollout: 20)));
        var pro = Context(attributes: """{"plan":"pro"}""").CustomAttributes;
        var free = Context(attributes: """{"plan":"free"}""").CustomAttributes;
        int included = 0, matched = 0, freeIncluded = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var id = $"user_{i}";
            var result = flag.Evaluate(new EvaluationContext(id, null, pro), id);
            matched += result.Reason == EvaluationReason.RuleMatch ? 1 : 0;
            included += result.Value ? 1 : 0;
            freeIncluded += flag.Evaluate(new EvaluationContext(id, null, free), id).Value ? 1 : 0;
        }

        matched.Should().Be(10_000);
        included.Should().BeInRange(1_850, 2_150);
        freeIncluded.Should().Be(0);
    }

    [Fact]
    public void Evaluate_same_user_and_definition_always_returns_the_same_answer()
    {
        var definition = Flag("stable", rollout: 50);
        var first = Evaluate(definition, User12345);

        for (var i = 0; i < 10; i++)
        {
            Evaluate(definition, User12345).Should().Be(first);
        }
    }

    [Fact]
    public void Evaluate_identifier_from_email_buckets_like_the_lower_cased_email()
    {
        // f:alice@example.com falls in bucket 24.
        Evaluate(Flag("f", rollout: 25), Context(email: "  Alice@Example.COM ")).Value.Should().BeTrue();
        Evaluate(Flag("f", rollout: 24), Context(email: "  Alice@Example.COM ")).Value.Should().BeFalse();
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("[42]")]
    [InlineData("""[{"attribute":"plan","operator":"nope","values":["pro"]}]""")]
    [InlineData("""[{"attribute":"plan","operator":"equals"}]""")]
    [InlineData("""[{"attribute":"n","operator":"gt","values":["abc"]}]""")]
    [InlineData("""[{"attribute":"v","operator":"semver_gt","values":["1.2"]}]""")]
    [InlineData("""[{"attribute":"d","operator":"before","values":["yesterday"]}]""")]
    [InlineData("""[{"attribute":"s","operator":"matches","values":["("]}]""")]
    [InlineData(null)]
    public void Compile_malformed_stored_conditions_never_match(string? conditions)
    {
        var rule = Rule(RuleTypes.AttributeMatch, null, conditions: conditions);
        var context = Context("u", attributes: """{"plan":"pro","n":5,"v":"2.0.0","d":"2020-01-01","s":"x"}""");

        Evaluate(Flag(rollout: 100, rule), context).Reason.Should().Be(EvaluationReason.Rollout);
    }

    [Theory]
    [InlineData("unknown_type", "x")]
    [InlineData(RuleTypes.UserId, null)]
    [InlineData(RuleTypes.UserId, "  ")]
    [InlineData(RuleTypes.UserEmail, "")]
    [InlineData(RuleTypes.EmailDomain, "@")]
    public void Compile_unusable_rule_value_never_matches(string type, string? value)
    {
        var result = Evaluate(Flag(rollout: 100, Rule(type, value)), Context(" ", "@"));

        result.Reason.Should().Be(EvaluationReason.Rollout);
    }

    [Theory]
    [InlineData(false, 50, false, true)]
    [InlineData(true, 0, false, true)]
    [InlineData(true, 100, false, true)]
    [InlineData(true, 50, false, false)]
    [InlineData(true, 100, true, false)]
    public void IsStatic_depends_on_enabled_rules_and_rollout(bool enabled, int rollout, bool withRule, bool expected)
    {
        var rules = withRule ? new[] { Rule(RuleTypes.UserId, "u") } : [Rule(RuleTypes.UserId, "u", enabled: false)];

        CompiledFlag.Compile(Flag(enabled: enabled, rollout: rollout, rules: rules)).IsStatic.Should().Be(expected);
    }

    [Fact]
    public void Compile_exposes_id_and_key()
    {
        var definition = Flag("dark_mode");

        var flag = CompiledFlag.Compile(definition);

        flag.Id.Should().Be(definition.Id);
        flag.Key.Should().Be("dark_mode");
    }

    [Theory]
    [InlineData(EvaluationReason.Disabled, "disabled")]
    [InlineData(EvaluationReason.RuleMatch, "rule_match")]
    [InlineData(EvaluationReason.Rollout, "rollout")]
    [InlineData(EvaluationReason.RolloutExcluded, "rollout_excluded")]
    public void ToWire_each_reason_returns_contract_string(EvaluationReason reason, string wire)
    {
        reason.ToWire().Should().Be(wire);
    }

    [Fact]
    public void Evaluate_warm_flag_with_every_rule_kind_does_not_allocate()
    {
        var conditions = """
            [{"attribute":"plan","operator":"in","values":["pro","enterprise"]},
             {"attribute":"app_version","operator":"semver_gte","values":["2.4.0"]},
             {"attribute":"age","operator":"gt","values":[18]},
             {"attribute":"signup","operator":"before","values":["2026-03-01T00:00:00Z"]},
             {"attribute":"country","operator":"matches","values":["^(FR|DE)$"],"ignore_case":true},
             {"attribute":"tags","operator":"contains","values":["beta"]},
             {"attribute":"user_email","operator":"ends_with","values":["@example.com"]},
             {"attribute":"missing","operator":"exists","values":[],"negate":true}]
            """;
        var flag = CompiledFlag.Compile(Flag("perf", rollout: 30,
            Rule(RuleTypes.UserId, "someone", priority: 9),
            Rule(RuleTypes.UserEmail, "other@example.com", priority: 8),
            Rule(RuleTypes.EmailDomain, "@other.com", priority: 7),
            AttributeRule(conditions, priority: 5, rollout: 50)));
        var context = Context("user_12345", "jo@example.com", """
            {"plan":"pro","app_version":"2.10.1-rc.1","age":"42","signup":"2025-12-31T23:00:00-02:00","country":"fr","tags":["x","my-beta"]}
            """);
        var identifier = Identifiers.For(in context);
        flag.Evaluate(in context, identifier).Reason.Should().Be(EvaluationReason.RuleMatch);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            flag.Evaluate(in context, identifier);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }
}
