using System.Text.Json;
using FlagService.Features.Evaluation;
using static FlagService.Tests.Evaluation.TestData;

namespace FlagService.Tests.Evaluation;

public sealed class VariantTests
{
    private static readonly VariantDefinition[] Colors =
        [new("control", "\"#000\""), new("blue", "\"#00f\""), new("green", "\"#0a0\"")];

    private static FlagDefinition Multivariate(string key, string serve, bool enabled = true, string? offVariant = null,
        params RuleDefinition[] rules) =>
        new(Guid.NewGuid(), key, enabled, 0, rules, ValueTypes.String, Colors, offVariant, serve);

    private static string Distribution(params (string Variant, int Weight)[] entries) =>
        JsonSerializer.Serialize(new { distribution = entries.Select(e => new { variant = e.Variant, weight = e.Weight }) });

    private static string VariantOf(CompiledFlag flag, string? identifier) =>
        flag.Variants[flag.Evaluate(new EvaluationContext(identifier, null, null), identifier).Variant];

    [Fact]
    public void Contract_example_splits_50_25_25_in_listed_order()
    {
        Bucketing.Bucket("checkout_color", "user_1").Should().Be(19);
        Bucketing.Bucket("checkout_color", "user_42").Should().Be(97);
        var flag = CompiledFlag.Compile(Multivariate("checkout_color", Distribution(("control", 50), ("blue", 25), ("green", 25))));

        VariantOf(flag, "user_1").Should().Be("control");
        VariantOf(flag, "user_42").Should().Be("green");
        var result = flag.Evaluate(new EvaluationContext("user_42", null, null), "user_42");
        result.Reason.Should().Be(EvaluationReason.Rollout);
        result.Value.Should().BeTrue("a multivariate flag is enabled whatever variant it serves");
        flag.Values[result.Variant].GetRawText().Should().Be("\"#0a0\"");
    }

    [Fact]
    public void Distribution_is_walked_cumulatively_in_listed_order()
    {
        // The same weights listed the other way round serve the other end of the bucket range.
        var forward = CompiledFlag.Compile(Multivariate("f", Distribution(("control", 10), ("blue", 90))));
        var backward = CompiledFlag.Compile(Multivariate("f", Distribution(("blue", 90), ("control", 10))));
        for (var i = 0; i < 2000; i++)
        {
            var id = $"user_{i}";
            var bucket = Bucketing.Bucket("f", id);
            VariantOf(forward, id).Should().Be(bucket < 10 ? "control" : "blue");
            VariantOf(backward, id).Should().Be(bucket < 90 ? "blue" : "control");
        }
    }

    [Fact]
    public void Entries_of_weight_zero_are_never_served()
    {
        var flag = CompiledFlag.Compile(Multivariate("zero", Distribution(("control", 0), ("blue", 60), ("green", 40))));
        Enumerable.Range(0, 5000).Select(i => VariantOf(flag, $"u{i}")).Distinct().Should().BeEquivalentTo(["blue", "green"]);
    }

    [Fact]
    public void An_entry_of_weight_100_is_served_to_everyone_also_without_an_identifier()
    {
        var flag = CompiledFlag.Compile(Multivariate("whole", Distribution(("control", 0), ("green", 100))));

        var anonymous = flag.Evaluate(new EvaluationContext(null, null, null), null);

        flag.Variants[anonymous.Variant].Should().Be("green");
        anonymous.Reason.Should().Be(EvaluationReason.Rollout);
        anonymous.IdentifierMissing.Should().BeFalse();
        flag.IsStatic.Should().BeTrue();
        flag.IsSplit.Should().BeFalse();
    }

    [Fact]
    public void Without_an_identifier_a_split_serves_the_off_variant_as_rollout_excluded()
    {
        var flag = CompiledFlag.Compile(Multivariate("split", Distribution(("control", 50), ("blue", 50)), offVariant: "green"));

        var result = flag.Evaluate(new EvaluationContext(null, null, null), null);

        flag.Variants[result.Variant].Should().Be("green");
        result.Reason.Should().Be(EvaluationReason.RolloutExcluded);
        result.IdentifierMissing.Should().BeTrue();
        flag.IsSplit.Should().BeTrue();
    }

    [Fact]
    public void Split_50_25_25_over_100000_identifiers_is_within_half_a_percent_of_each_weight()
    {
        var flag = CompiledFlag.Compile(Multivariate("ab_test", Distribution(("control", 50), ("blue", 25), ("green", 25))));
        const int N = 100_000;
        var counts = Enumerable.Range(0, N).Select(i => VariantOf(flag, $"visitor-{i}")).GroupBy(v => v)
            .ToDictionary(g => g.Key, g => g.Count() * 100.0 / N);

        counts["control"].Should().BeApproximately(50, 0.5);
        counts["blue"].Should().BeApproximately(25, 0.5);
        counts["green"].Should().BeApproximately(25, 0.5);
    }

    [Fact]
    public void Single_variant_is_the_default_and_disabled_serves_the_off_variant()
    {
        var single = CompiledFlag.Compile(Multivariate("single", """{"variant":"blue"}""", offVariant: "control"));
        var disabled = CompiledFlag.Compile(Multivariate("off", """{"variant":"blue"}""", enabled: false, offVariant: "control"));

        var served = single.Evaluate(new EvaluationContext(null, null, null), null);
        (single.Variants[served.Variant], served.Reason, served.Value).Should().Be(("blue", EvaluationReason.Default, true));
        var off = disabled.Evaluate(new EvaluationContext("u1", null, null), "u1");
        (disabled.Variants[off.Variant], off.Reason, off.Value).Should().Be(("control", EvaluationReason.Disabled, false));
    }

    [Fact]
    public void Matching_rule_serves_its_own_variant_or_distribution()
    {
        var beta = Rule(RuleTypes.EmailDomain, "@beta.example", priority: 10) with { ServeJson = """{"variant":"green"}""" };
        var staff = Rule(RuleTypes.EmailDomain, "@staff.example", priority: 5) with { ServeJson = Distribution(("blue", 50), ("control", 50)) };
        var flag = CompiledFlag.Compile(Multivariate("ruled", """{"variant":"control"}""", rules: [beta, staff]));

        var betaUser = flag.Evaluate(new EvaluationContext("b1", "b1@beta.example", null), "b1");
        (flag.Variants[betaUser.Variant], betaUser.Reason, betaUser.RuleId).Should().Be(("green", EvaluationReason.RuleMatch, beta.Id));
        for (var i = 0; i < 200; i++)
        {
            var id = $"s{i}";
            var result = flag.Evaluate(new EvaluationContext(id, $"{id}@staff.example", null), id);
            result.Reason.Should().Be(EvaluationReason.RuleMatch);
            flag.Variants[result.Variant].Should().Be(Bucketing.Bucket("ruled", id) < 50 ? "blue" : "control");
        }
        VariantOf(flag, "someone").Should().Be("control");
    }

    [Fact]
    public void Stored_serve_that_does_not_fit_serves_the_first_variant_instead_of_failing()
    {
        foreach (var broken in new[] { "{", """{"variant":"purple"}""", Distribution(("blue", 30)), """{"distribution":[{"variant":"blue"}]}""" })
        {
            VariantOf(CompiledFlag.Compile(Multivariate("broken", broken)), "u1").Should().Be("control", broken);
        }
    }

    // The v1 evaluation, written out independently: the boolean flag's answers must not change.
    private static (bool Value, string Reason) V1(FlagDefinition flag, EvaluationContext context)
    {
        if (!flag.Enabled)
        {
            return (false, "disabled");
        }
        var identifier = Identifiers.For(in context);
        bool InRollout(int percentage) => percentage >= 100 || (percentage > 0 && identifier is not null
            && Bucketing.Bucket(flag.Key, identifier) < percentage);
        var rule = flag.Rules.Where(r => r.Enabled).OrderByDescending(r => r.Priority).ThenBy(r => r.CreatedAt)
            .FirstOrDefault(r => r.RuleType == RuleTypes.UserId ? r.RuleValue == context.UserId
                : r.RuleType == RuleTypes.EmailDomain && (context.UserEmail?.Trim().EndsWith(r.RuleValue!, StringComparison.OrdinalIgnoreCase) ?? false));
        if (rule is not null)
        {
            return (InRollout(rule.RolloutPercentage), "rule_match");
        }
        var included = InRollout(flag.RolloutPercentage);
        return (included, included ? "rollout" : "rollout_excluded");
    }

    [Fact]
    public void Boolean_flag_answers_are_v1s_for_10000_users()
    {
        var flags = new List<FlagDefinition>();
        foreach (var rollout in new[] { 0, 1, 10, 33, 50, 99, 100 })
        {
            flags.Add(Flag($"bool_{rollout}", rollout,
                Rule(RuleTypes.EmailDomain, "@corp.example", priority: 10, rollout: 40),
                Rule(RuleTypes.UserId, "user_77", priority: 20, rollout: 0)));
            flags.Add(Flag($"plain_{rollout}", rollout));
        }
        flags.Add(Flag("disabled", enabled: false, rollout: 50));
        var compiled = flags.Select(CompiledFlag.Compile).ToArray();

        for (var i = 0; i < 10_000; i++)
        {
            var context = i % 3 == 0 ? new EvaluationContext(null, $" User{i}@Corp.Example ", null)
                : i % 3 == 1 ? new EvaluationContext($"user_{i}", null, null)
                : new EvaluationContext(null, null, null);
            var identifier = Identifiers.For(in context);
            for (var f = 0; f < flags.Count; f++)
            {
                var result = compiled[f].Evaluate(in context, identifier);
                (result.Value, result.Reason.ToWire()).Should().Be(V1(flags[f], context), $"{flags[f].Key} for context {i}");
                compiled[f].Variants[result.Variant].Should().Be(result.Value ? "on" : "off");
            }
        }
    }
}
