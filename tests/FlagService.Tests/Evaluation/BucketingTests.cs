using System.Text;
using FlagService.Features.Evaluation;
using FluentAssertions;
using Xunit;

namespace FlagService.Tests.Evaluation;

public sealed class BucketingTests
{
    [Theory]
    [InlineData("dark_mode", "user_12345", 39)]
    [InlineData("new_checkout", "user_42", 98)]
    [InlineData("flag", "user123", 78)]
    [InlineData("f", "alice@example.com", 24)]
    [InlineData("beta", "ü-üser", 37)]
    public void Bucket_contract_vector_returns_documented_bucket(string flagKey, string identifier, int bucket)
    {
        Bucketing.Bucket(flagKey, identifier).Should().Be(bucket);
    }

    // Bucket and the batch (keys side by side in vector lanes, grouped by the 0 to 3 bytes their
    // "key:" leaves before the identifier, with a scalar remainder) both give murmur3 of the joined
    // bytes, for identifiers shorter and longer than a block, multi-byte and lone-surrogate ones,
    // the empty one, and one thread switching between identifiers.
    [Fact]
    public void Bucket_and_BucketBatch_give_murmur3_of_the_key_and_identifier_joined()
    {
        var keys = Enumerable.Range(0, 203).Select(i => new string('k', i % 13 + 1) + i.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Append("clé").Append("f-ü").ToArray();
        // Scattered over a larger answer, as a snapshot's splitting flags are among its flags.
        var index = Enumerable.Range(0, keys.Length).Select(i => i * 2 + 1).ToArray();
        var batch = new BucketBatch(index, keys.Select(k => new BucketKey(k)).ToArray());
        var identifiers = Enumerable.Range(0, 21).Select(n => string.Concat(Enumerable.Range(0, n).Select(i => (char)('a' + i))))
            .Concat(["ü", "üü", "ü-0042", "日本語のユーザー", "user_\ud800x", "user_1", "user_1"]).ToArray();
        foreach (var identifier in identifiers)
        {
            var buckets = new byte[keys.Length * 2 + 1];
            Array.Fill(buckets, byte.MaxValue);
            batch.Buckets(identifier, buckets);
            for (var i = 0; i < keys.Length; i++)
            {
                var expected = (int)(Murmur3.Hash32(Encoding.UTF8.GetBytes(keys[i] + ":" + identifier)) % 100);
                Bucketing.Bucket(keys[i], identifier).Should().Be(expected, $"key '{keys[i]}', identifier '{identifier}'");
                buckets[index[i]].Should().Be((byte)expected, $"batch: key '{keys[i]}', identifier '{identifier}'");
                buckets[index[i] - 1].Should().Be(byte.MaxValue, "only the batch's own places are written");
            }
        }
    }

    [Fact]
    public void Bucket_identifier_longer_than_stack_buffer_hashes_the_whole_string()
    {
        var identifier = new string('é', 5000) + "x";
        var expected = Murmur3.Hash32(Encoding.UTF8.GetBytes("flag:" + identifier)) % 100;

        Bucketing.Bucket("flag", identifier).Should().Be((int)expected);
    }

    [Fact]
    public void Evaluate_raising_rollout_never_turns_a_user_off()
    {
        for (var user = 0; user < 1000; user++)
        {
            var context = new EvaluationContext($"user_{user}", null, null);
            var wasOn = false;
            for (var percentage = 0; percentage <= 100; percentage++)
            {
                var on = CompiledFlag.Compile(TestData.Flag("monotonic", rollout: percentage)).Evaluate(in context, context.UserId).Value;
                if (wasOn)
                {
                    on.Should().BeTrue($"user_{user} was on below {percentage} %");
                }

                wasOn = on;
            }
        }
    }

    [Fact]
    public void Evaluate_ten_percent_of_100000_identifiers_includes_ten_percent_within_half_a_point()
    {
        var flag = CompiledFlag.Compile(TestData.Flag("distribution", rollout: 10));
        var included = 0;
        for (var i = 0; i < 100_000; i++)
        {
            var id = $"user_{i}";
            if (flag.Evaluate(new EvaluationContext(id, null, null), id).Value)
            {
                included++;
            }
        }

        included.Should().BeInRange(9_500, 10_500);
    }

    [Fact]
    public void Evaluate_two_flags_at_fifty_percent_split_users_independently()
    {
        var a = CompiledFlag.Compile(TestData.Flag("flag_a", rollout: 50));
        var b = CompiledFlag.Compile(TestData.Flag("flag_b", rollout: 50));
        var both = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var id = $"user_{i}";
            var context = new EvaluationContext(id, null, null);
            if (a.Evaluate(in context, id).Value && b.Evaluate(in context, id).Value)
            {
                both++;
            }
        }

        // Independent halves overlap on about a quarter of users; identical splits would give a half.
        both.Should().BeInRange(4_600, 5_400);
    }
}
