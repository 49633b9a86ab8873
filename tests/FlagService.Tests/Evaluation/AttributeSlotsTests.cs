using System.Text.Json;
using FlagService.Features.Evaluation;
using static FlagService.Tests.Evaluation.TestData;

namespace FlagService.Tests.Evaluation;

// Attribute slots belong to a project snapshot: each compiles its own table, so a request decodes
// only the attributes its own project's conditions read.
public sealed class AttributeSlotsTests
{
    // One flag with a rule per attribute, each matching the value "yes".
    private static EnvironmentSnapshot Project(params string[] attributes)
    {
        var rules = attributes.Select(a => AttributeRule(Condition(a, "equals", """["yes"]"""))).ToArray();
        var environment = new EnvironmentDefinition(Guid.NewGuid(), "production", "sdk_x", "srv_x", true, [Flag("flag", 0, rules)]);
        return new ProjectSnapshot(new ProjectDefinition(Guid.NewGuid(), [environment])).Environments[0];
    }

    private static EvaluationReason Reason(EnvironmentSnapshot snapshot, JsonElement attributes, DecodedAttributes decoded)
    {
        var context = new EvaluationContext("u1", null, new JsonAttributes(attributes), decoded);
        return snapshot.Flags[0].Evaluate(in context, "u1").Reason;
    }

    [Fact]
    public void Two_projects_with_different_attribute_names_get_independent_slots()
    {
        var wide = Project([.. Enumerable.Range(0, 300).Select(i => $"a{i}")]);
        var narrow = Project("plan");

        wide.Slots.Count.Should().Be(300);
        narrow.Slots.Count.Should().Be(1, "another project's attribute names take no slot here");
        narrow.Project.Environments.Should().AllSatisfy(e => e.Slots.Should().BeSameAs(narrow.Slots));

        using var body = JsonDocument.Parse($$"""{{{string.Join(',', Enumerable.Range(0, 300).Select(i => $"\"a{i}\":\"no\""))}},"plan":"yes"}""");
        var decoded = narrow.Slots.Read(body.RootElement);
        decoded.Slots.Should().BeSameAs(narrow.Slots);
        Reason(narrow, body.RootElement, decoded).Should().Be(EvaluationReason.RuleMatch);
        Reason(wide, body.RootElement, wide.Slots.Read(body.RootElement)).Should().Be(EvaluationReason.RolloutExcluded);
        Reason(narrow, body.RootElement, narrow.Slots.Read(body.RootElement)).Should().Be(EvaluationReason.RuleMatch,
            "the thread's scratch array, just filled by the wide table, is read again by the narrow one's slots");
    }

    [Fact]
    public void A_context_decoded_for_another_snapshot_is_read_by_name()
    {
        // Slot 0 is country in one project and plan in the other.
        var byCountry = Project("country");
        var byPlan = Project("plan");
        using var body = JsonDocument.Parse("""{"country":"no","plan":"yes"}""");

        var decodedForCountry = byCountry.Slots.Read(body.RootElement);
        Reason(byPlan, body.RootElement, decodedForCountry).Should().Be(EvaluationReason.RuleMatch,
            "plan is looked up by name, not read from the other table's slot 0 (country)");
        Reason(byPlan, body.RootElement, byPlan.Slots.Decode(JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(body.RootElement)!))
            .Should().Be(EvaluationReason.RuleMatch);
    }
}
