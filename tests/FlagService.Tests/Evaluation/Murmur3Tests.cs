using System.Text;
using FlagService.Features.Evaluation;
using FluentAssertions;
using Xunit;

namespace FlagService.Tests.Evaluation;

public sealed class Murmur3Tests
{
    [Theory]
    [InlineData("dark_mode:user_12345", 716509739u, 39)]
    [InlineData("new_checkout:user_42", 3172665498u, 98)]
    [InlineData("flag:user123", 1048025678u, 78)]
    [InlineData("f:alice@example.com", 3027423424u, 24)]
    [InlineData("beta:ü-üser", 2075054137u, 37)]
    public void Hash32_contract_vector_matches_hash_and_bucket(string input, uint hash, int bucket)
    {
        var actual = Murmur3.Hash32(Encoding.UTF8.GetBytes(input));

        actual.Should().Be(hash);
        ((int)(actual % 100)).Should().Be(bucket);
    }

    // Continue over a key's leftover bytes and an identifier equals hashing them joined, for every
    // leftover length and identifiers shorter and longer than a block.
    [Fact]
    public void Continue_over_a_lead_and_data_equals_the_hash_of_both_joined()
    {
        var bytes = Encoding.UTF8.GetBytes("flag_0123:user_ü-0042-abcdefgh");
        for (var prefix = 0; prefix <= 12; prefix++)
        {
            for (var end = prefix; end <= bytes.Length; end++)
            {
                var key = bytes.AsSpan(0, prefix);
                var blocks = prefix / 4 * 4;
                var state = Murmur3.Blocks(7, key);
                Murmur3.Continue(state, key[blocks..], bytes.AsSpan(prefix, end - prefix), end)
                    .Should().Be(Murmur3.Hash32(bytes.AsSpan(0, end), 7), $"prefix {prefix}, length {end}");
            }
        }
    }

    // Reference vectors of the original implementation, covering every tail length and non-zero seeds.
    [Theory]
    [InlineData("", 0u, 0u)]
    [InlineData("", 1u, 0x514E28B7u)]
    [InlineData("", 0xffffffffu, 0x81F16F39u)]
    [InlineData("a", 0x9747b28cu, 0x7FA09EA6u)]
    [InlineData("ab", 0x9747b28cu, 0x74875592u)]
    [InlineData("abc", 0x9747b28cu, 0xC84A62DDu)]
    [InlineData("abcd", 0x9747b28cu, 0xF0478627u)]
    [InlineData("Hello, world!", 0x9747b28cu, 0x24884CBAu)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x9747b28cu, 0x2FA826CDu)]
    public void Hash32_reference_vector_matches(string input, uint seed, uint expected)
    {
        Murmur3.Hash32(Encoding.UTF8.GetBytes(input), seed).Should().Be(expected);
    }

    [Fact]
    public void Hash32_four_zero_bytes_matches_reference()
    {
        Murmur3.Hash32([0, 0, 0, 0]).Should().Be(0x2362F9DEu);
    }
}
