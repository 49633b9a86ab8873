using System.Text.Json;
using FlagService.Features.Analytics;
using FlagService.Features.Evaluation;
using FlagService.Features.Sdk.Evaluate;
using FluentAssertions;
using Microsoft.Extensions.Options;
using Xunit;

namespace FlagService.Tests.Unit;

// /sdk/v1/evaluate hashes the buckets of many flags ahead of evaluating them; what it serves must be
// exactly what evaluating each flag on its own serves.
public sealed class AnswerTests
{
    [Theory]
    [InlineData(20)]
    [InlineData(200)]
    public void Every_flag_answers_as_it_does_evaluated_alone(int flagCount)
    {
        var created = DateTime.UtcNow;
        var variants = new[] { new VariantDefinition("a", "\"a\""), new VariantDefinition("b", "\"b\""), new VariantDefinition("c", "\"c\"") };
        var flags = Enumerable.Range(0, flagCount).Select(i => (i % 6) switch
        {
            0 => new FlagDefinition(Guid.NewGuid(), $"f{i}", true, i % 101, []),
            1 => new FlagDefinition(Guid.NewGuid(), $"f{i}", i % 3 != 0, 100,
                [new RuleDefinition(Guid.NewGuid(), RuleTypes.EmailDomain, "@corp.example", null, 30, true, 1, created)]),
            2 => new FlagDefinition(Guid.NewGuid(), $"f{i}", true, 0,
                [new RuleDefinition(Guid.NewGuid(), RuleTypes.UserId, $"user_{i}", null, 100, true, 1, created)],
                ValueTypes.String, variants, "a", """{"distribution":[{"variant":"a","weight":20},{"variant":"b","weight":30},{"variant":"c","weight":50}]}"""),
            // One variant for everyone ("default"), and a disabled one serving its off variant.
            4 => new FlagDefinition(Guid.NewGuid(), $"fixed_{i}", true, 0, [], ValueTypes.String, variants, "a", """{"variant":"b"}"""),
            5 => new FlagDefinition(Guid.NewGuid(), $"off_{i}", false, 0, [], ValueTypes.String, variants, "c", """{"variant":"b"}"""),
            _ => new FlagDefinition(Guid.NewGuid(), $"flag_with_a_longer_key_{i}", true, 50,
                [new RuleDefinition(Guid.NewGuid(), RuleTypes.AttributeMatch, null,
                    """[{"attribute":"plan","operator":"in","values":["pro"]}]""", 70, true, 1, created)]),
        }).ToArray();
        var snapshot = new ProjectSnapshot(new ProjectDefinition(Guid.NewGuid(),
            [new EnvironmentDefinition(Guid.NewGuid(), "production", "sdk_x", "srv_x", true, flags)])).Environments[0];
        var recorder = new EvaluationRecorder(Options.Create(new AnalyticsOptions()), TimeProvider.System);

        for (var n = 0; n < 500; n++)
        {
            using var attributes = JsonDocument.Parse($$"""{"plan":"{{(n % 3 == 0 ? "pro" : "free")}}"}""");
            var request = new EvaluateFlags.EvaluateRequest(n % 7 == 0 ? null : $"user_{n}",
                n % 2 == 0 ? $"u{n}@corp.example" : null, attributes.RootElement);
            var entries = EvaluateFlags.Answer(snapshot, request, recorder);
            try
            {
                var context = new EvaluationContext(request.UserId, request.UserEmail, new JsonAttributes(attributes.RootElement));
                var identifier = Identifiers.For(in context);
                for (var i = 0; i < flagCount; i++)
                {
                    var alone = AnswerTable.Of(snapshot).Entry(i, Outcome.Of(snapshot.Flags[i].Evaluate(in context, identifier)));
                    entries[i].Bytes.Should().BeSameAs(alone, $"flag {snapshot.Flags[i].Key}, request {n}");
                }
            }
            finally
            {
                EvaluateFlags.Release(entries, flagCount);
            }
        }
    }

    // The answer table is the SDK's wire format of an outcome: every outcome of a flag reads as
    // {"key":{enabled, reason, variant, value}}, the value being the variant's JSON as stored.
    [Fact]
    public void Entries_are_the_flag_evaluation_json_of_each_outcome()
    {
        var variants = new[] { new VariantDefinition("plain", "{\"size\": [1, 2.5], \"label\": \"caf\u00e9\"}"), new VariantDefinition("dark", "null") };
        var flags = new[]
        {
            new FlagDefinition(Guid.NewGuid(), "theme", true, 0, [], ValueTypes.Json, variants, "dark", """{"variant":"plain"}"""),
            new FlagDefinition(Guid.NewGuid(), "beta", true, 40, []),
        };
        var snapshot = new ProjectSnapshot(new ProjectDefinition(Guid.NewGuid(),
            [new EnvironmentDefinition(Guid.NewGuid(), "production", "sdk_x", "srv_x", true, flags)])).Environments[0];
        var table = AnswerTable.Of(snapshot);
        AnswerTable.Of(snapshot).Should().BeSameAs(table, "a snapshot's entries are written once");

        for (var i = 0; i < snapshot.Flags.Length; i++)
        {
            var flag = snapshot.Flags[i];
            for (var variant = 0; variant < flag.Variants.Length; variant++)
            {
                foreach (var reason in Enum.GetValues<EvaluationReason>())
                {
                    var entry = table.Entry(i, Outcome.Of(reason, variant));
                    entry[0].Should().Be((byte)',');
                    using var document = JsonDocument.Parse((byte[])[(byte)'{', .. entry.AsSpan(1), (byte)'}']);
                    var answer = document.RootElement.GetProperty(flag.Key);
                    answer.GetProperty("enabled").GetBoolean().Should().Be(flag.IsEnabled(variant, reason));
                    answer.GetProperty("reason").GetString().Should().Be(reason.ToWire());
                    answer.GetProperty("variant").GetString().Should().Be(flag.Variants[variant]);
                    answer.GetProperty("value").GetRawText().Should().Be(flag.Values[variant].GetRawText());
                }
            }
        }
        System.Text.Encoding.UTF8.GetString(table.Entry(0, Outcome.Of(EvaluationReason.Default, 1)))
            .Should().Be(""","beta":{"enabled":false,"reason":"default","variant":"off","value":false}""");
    }
}
