using FlagService.Features.Evaluation;
using FluentAssertions;
using Xunit;

namespace FlagService.Tests.Evaluation;

public sealed class SemanticVersionTests
{
    // The precedence example of SemVer 2.0.0, section 11, in ascending order.
    private static readonly string[] Ascending =
    [
        "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
        "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.9.0", "1.10.0", "2.0.0",
    ];

    [Fact]
    public void CompareTo_specification_examples_sort_in_precedence_order()
    {
        for (var i = 0; i < Ascending.Length; i++)
        {
            for (var j = 0; j < Ascending.Length; j++)
            {
                var c = SemanticVersion.Parse(Ascending[i]).CompareTo(SemanticVersion.Parse(Ascending[j]));
                Math.Sign(c).Should().Be(i.CompareTo(j), $"{Ascending[i]} vs {Ascending[j]}");
            }
        }
    }

    [Theory]
    [InlineData("1.10.0", "1.9.0")]
    [InlineData("1.0.0", "1.0.0-rc.1")]
    [InlineData("1.0.0-alpha.10", "1.0.0-alpha.9")]
    [InlineData("1.0.0-alpha.a", "1.0.0-alpha.999")]
    [InlineData("1.0.0-beta", "1.0.0-Beta")]
    [InlineData("1.0.0-alpha.123456789012345678901234567890", "1.0.0-alpha.99999999999999999999")]
    [InlineData("18446744073709551615.0.0", "18446744073709551614.9.9")]
    public void CompareTo_first_above_second_returns_positive(string higher, string lower)
    {
        (SemanticVersion.Parse(higher) > SemanticVersion.Parse(lower)).Should().BeTrue();
        (SemanticVersion.Parse(lower) < SemanticVersion.Parse(higher)).Should().BeTrue();
    }

    [Theory]
    [InlineData("1.0.0+build.1", "1.0.0+build.2")]
    [InlineData("1.0.0-rc.1+001", "1.0.0-rc.1")]
    [InlineData("v1.2.3", "1.2.3")]
    [InlineData("V1.2.3", "1.2.3+sha.abc")]
    public void Equals_versions_differing_in_build_or_prefix_are_equal(string a, string b)
    {
        SemanticVersion.Parse(a).Should().Be(SemanticVersion.Parse(b));
        (SemanticVersion.Parse(a) == SemanticVersion.Parse(b)).Should().BeTrue();
        SemanticVersion.Parse(a).GetHashCode().Should().Be(SemanticVersion.Parse(b).GetHashCode());
    }

    [Theory]
    [InlineData("1.2.3", 1ul, 2ul, 3ul, "")]
    [InlineData("0.0.0", 0ul, 0ul, 0ul, "")]
    [InlineData("10.20.30-rc.1-x+meta.9", 10ul, 20ul, 30ul, "rc.1-x")]
    [InlineData("1.0.0-0A.is.legal", 1ul, 0ul, 0ul, "0A.is.legal")]
    [InlineData("1.0.0---RC-SNAPSHOT", 1ul, 0ul, 0ul, "--RC-SNAPSHOT")]
    public void TryParse_valid_version_returns_its_parts(string text, ulong major, ulong minor, ulong patch, string prerelease)
    {
        SemanticVersion.TryParse(text, out var version).Should().BeTrue();

        version.Major.Should().Be(major);
        version.Minor.Should().Be(minor);
        version.Patch.Should().Be(patch);
        version.Prerelease.Should().Be(prerelease);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("1.2")]
    [InlineData("1.2.3.4")]
    [InlineData("01.2.3")]
    [InlineData("1.02.3")]
    [InlineData("1.2.03")]
    [InlineData("1.2.3-01")]
    [InlineData("1.2.3-")]
    [InlineData("1.2.3-alpha..1")]
    [InlineData("1.2.3+")]
    [InlineData("1.2.3+a..b")]
    [InlineData("1.2.3-al_pha")]
    [InlineData(" 1.2.3")]
    [InlineData("1.2.3 ")]
    [InlineData("vv1.2.3")]
    [InlineData("=1.2.3")]
    [InlineData("-1.2.3")]
    [InlineData("1.2.x")]
    [InlineData("18446744073709551616.0.0")]
    public void TryParse_invalid_version_returns_false(string text)
    {
        SemanticVersion.TryParse(text, out _).Should().BeFalse();
    }

    [Fact]
    public void ToString_parsed_version_drops_prefix_and_build()
    {
        SemanticVersion.Parse("v1.2.3-beta.1+sha").ToString().Should().Be("1.2.3-beta.1");
        default(SemanticVersion).ToString().Should().Be("0.0.0");
    }
}
