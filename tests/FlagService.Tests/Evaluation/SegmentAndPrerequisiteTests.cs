using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using static FlagService.Tests.Evaluation.TestData;

namespace FlagService.Tests.Evaluation;

public sealed class SegmentAndPrerequisiteTests
{
    private const string ProPlan = """[{"attribute":"plan","operator":"equals","values":["pro"]}]""";

    private static CompiledSegment Segment(string[]? included = null, string[]? excluded = null, string? conditions = null,
        AttributeSlots? slots = null) =>
        CompiledSegment.Compile(new SegmentDefinition("beta", included ?? [], excluded ?? [], conditions), slots ?? new AttributeSlots());

    private static EvaluationContext Pro(string? userId) => Context(userId, attributes: """{"plan":"pro"}""");

    [Fact]
    public void Included_beats_conditions_and_excluded_beats_included()
    {
        var segment = Segment(included: ["u_in", "u_both"], excluded: ["u_out", "u_both"], conditions: ProPlan);

        segment.Contains(Context("u_in"), "u_in").Should().BeTrue("listed in, though not on the pro plan");
        segment.Contains(Pro("u_out"), "u_out").Should().BeFalse("listed out, though on the pro plan");
        segment.Contains(Pro("u_both"), "u_both").Should().BeFalse("excluded beats included");
        segment.Contains(Pro("u_other"), "u_other").Should().BeTrue("the conditions decide the rest");
        segment.Contains(Context("u_other"), "u_other").Should().BeFalse();
        segment.Contains(Pro(null), null).Should().BeTrue("conditions need no identifier");
    }

    [Fact]
    public void Without_conditions_only_the_included_are_members()
    {
        var segment = Segment(included: ["a"], conditions: "[]");
        segment.Contains(Pro("a"), "a").Should().BeTrue();
        segment.Contains(Pro("b"), "b").Should().BeFalse();
        segment.Contains(Pro(null), null).Should().BeFalse();
    }

    [Fact]
    public void Lists_of_10000_identifiers_are_exact()
    {
        var included = Enumerable.Range(0, 10_000).Select(i => $"user_{i}").ToArray();
        var excluded = Enumerable.Range(5_000, 10_000).Select(i => $"user_{i}").ToArray();
        var segment = Segment(included, excluded);

        Enumerable.Range(0, 20_000).Count(i => segment.Contains(Context($"user_{i}"), $"user_{i}")).Should().Be(5_000);
        segment.Contains(Context("user_4999"), "user_4999").Should().BeTrue();
        segment.Contains(Context("user_5000"), "user_5000").Should().BeFalse();
    }

    [Fact]
    public void Segment_rule_matches_members_and_an_unknown_segment_matches_no_one()
    {
        var slots = new AttributeSlots();
        var segments = new Dictionary<string, CompiledSegment> { ["beta"] = Segment(included: ["tester"], slots: slots) };
        var known = CompiledFlag.Compile(Flag(rollout: 0, Rule(RuleTypes.Segment, "beta")), segments, slots);
        var unknown = CompiledFlag.Compile(Flag(rollout: 0, Rule(RuleTypes.Segment, "gone")), segments, slots);

        known.Evaluate(Context("tester"), "tester").Should().Be(EvaluationResult.Boolean(true, EvaluationReason.RuleMatch, known.Evaluate(Context("tester"), "tester").RuleId));
        known.Evaluate(Context("someone"), "someone").Reason.Should().Be(EvaluationReason.RolloutExcluded);
        unknown.Evaluate(Context("tester"), "tester").Reason.Should().Be(EvaluationReason.RolloutExcluded);
    }

    // An environment of flags; prerequisites as (flag, required flag, variant).
    private static EnvironmentSnapshot Environment(IEnumerable<FlagDefinition> flags)
    {
        var definition = new ProjectDefinition(Guid.NewGuid(),
            [new EnvironmentDefinition(Guid.NewGuid(), "production", "sdk_x", "srv_x", true, [.. flags])]);
        return new ProjectSnapshot(definition).Environments[0];
    }

    private static FlagDefinition Requiring(FlagDefinition flag, params (string Flag, string Variant)[] prerequisites) =>
        flag with { Prerequisites = [.. prerequisites.Select(p => new PrerequisiteDefinition(p.Flag, p.Variant))] };

    private static Dictionary<string, EvaluationResult> EvaluateAll(EnvironmentSnapshot snapshot, EvaluationContext context)
    {
        var outcomes = new ushort[snapshot.Flags.Length];
        Array.Fill(outcomes, EnvironmentSnapshot.Pending);
        var results = new EvaluationResult[snapshot.Flags.Length];
        var identifier = Identifiers.For(in context);
        return Enumerable.Range(0, snapshot.Flags.Length).ToDictionary(i => snapshot.Flags[i].Key,
            i => snapshot.Evaluate(i, in context, identifier, outcomes, results));
    }

    [Fact]
    public void Met_prerequisites_let_the_flag_evaluate_and_unmet_ones_serve_its_off_variant()
    {
        var snapshot = Environment([
            Flag("payments", rollout: 100),
            Flag("payments_off", enabled: false, rollout: 100),
            Requiring(Flag("checkout", rollout: 100), ("payments", "on")),
            Requiring(Flag("checkout_blocked", rollout: 100), ("payments_off", "on")),
            Requiring(Flag("wants_off", rollout: 100), ("payments", "off")),
        ]);

        var results = EvaluateAll(snapshot, Context("u1"));

        results["checkout"].Should().Be(EvaluationResult.Boolean(true, EvaluationReason.Rollout));
        results["checkout_blocked"].Should().Be(EvaluationResult.Boolean(false, EvaluationReason.PrerequisiteFailed), "a disabled prerequisite serves off");
        results["wants_off"].Should().Be(EvaluationResult.Boolean(false, EvaluationReason.PrerequisiteFailed));
    }

    [Fact]
    public void Disabled_flag_is_disabled_before_its_prerequisites_are_looked_at()
    {
        var snapshot = Environment([Flag("p", enabled: false), Requiring(Flag("f", enabled: false, rollout: 100), ("p", "on"))]);
        EvaluateAll(snapshot, Context("u1"))["f"].Reason.Should().Be(EvaluationReason.Disabled);
    }

    [Fact]
    public void Prerequisite_of_a_prerequisite_is_evaluated_recursively_for_the_same_context()
    {
        var snapshot = Environment([
            Flag("base", rollout: 0, Rule(RuleTypes.UserId, "vip")),
            Requiring(Flag("middle", rollout: 100), ("base", "on")),
            Requiring(Flag("top", rollout: 100), ("middle", "on")),
        ]);

        EvaluateAll(snapshot, Context("vip"))["top"].Reason.Should().Be(EvaluationReason.Rollout);
        EvaluateAll(snapshot, Context("someone"))["top"].Reason.Should().Be(EvaluationReason.PrerequisiteFailed);
    }

    // Counts lookups of the attribute "probe": the flag holding a condition on it looks once per evaluation.
    private sealed class CountingAttributes : IReadOnlyDictionary<string, JsonElement>
    {
        public int Lookups { get; private set; }
        public JsonElement this[string key] => throw new KeyNotFoundException();
        public IEnumerable<string> Keys => [];
        public IEnumerable<JsonElement> Values => [];
        public int Count => 0;
        public bool ContainsKey(string key) => false;
        public IEnumerator<KeyValuePair<string, JsonElement>> GetEnumerator() => Enumerable.Empty<KeyValuePair<string, JsonElement>>().GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out JsonElement value)
        {
            Lookups += key == "probe" ? 1 : 0;
            value = default;
            return false;
        }
    }

    [Fact]
    public void Diamond_dependency_evaluates_the_shared_prerequisite_once()
    {
        var probe = AttributeRule("""[{"attribute":"probe","operator":"exists"}]""");
        var snapshot = Environment([
            Flag("shared", rollout: 100, probe),
            Requiring(Flag("left", rollout: 100), ("shared", "on")),
            Requiring(Flag("right", rollout: 100), ("shared", "on")),
            Requiring(Flag("top", rollout: 100), ("left", "on"), ("right", "on")),
        ]);
        var attributes = new CountingAttributes();

        var results = EvaluateAll(snapshot, new EvaluationContext("u1", null, attributes));

        attributes.Lookups.Should().Be(1, "shared is a prerequisite three times over and a flag of its own, and is evaluated once");
        results["top"].Reason.Should().Be(EvaluationReason.Rollout);
    }

    [Fact]
    public void A_cycle_in_stored_data_fails_the_prerequisite_instead_of_recursing()
    {
        var snapshot = Environment([Requiring(Flag("a", rollout: 100), ("b", "on")), Requiring(Flag("b", rollout: 100), ("a", "on"))]);
        var results = EvaluateAll(snapshot, Context("u1"));
        results["a"].Reason.Should().Be(EvaluationReason.PrerequisiteFailed);
        results["b"].Reason.Should().Be(EvaluationReason.PrerequisiteFailed);
    }

    [Fact]
    public void Graph_check_names_cycles_and_chains_deeper_than_ten()
    {
        Prerequisites.GraphProblem([("a", "b"), ("b", "c"), ("c", "a")]).Should().Be("would make a cycle: a → b → c → a");
        Prerequisites.GraphProblem([("a", "a")]).Should().Contain("a → a");
        Prerequisites.GraphProblem([("top", "left"), ("top", "right"), ("left", "shared"), ("right", "shared")]).Should().BeNull("a diamond is no cycle");

        var ten = Enumerable.Range(0, 10).Select(i => ($"f{i}", $"f{i + 1}")).ToArray();
        Prerequisites.GraphProblem(ten).Should().BeNull("ten hops are allowed");
        var eleven = Enumerable.Range(0, 11).Select(i => ($"f{i}", $"f{i + 1}")).ToArray();
        Prerequisites.GraphProblem(eleven).Should().Be($"would chain more than 10 prerequisites: {string.Join(" → ", Enumerable.Range(0, 12).Select(i => $"f{i}"))}");
    }
}
