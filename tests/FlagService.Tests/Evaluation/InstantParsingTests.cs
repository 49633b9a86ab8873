using System.Globalization;
using FlagService.Features.Evaluation;

namespace FlagService.Tests.Evaluation;

// The digit-by-digit reading of the common RFC 3339 shape must agree with the general parser on
// every input: the same accepted set, the same instants.
public sealed class InstantParsingTests
{
    private static (bool Ok, DateTimeOffset Value) General(string text) =>
        DateTimeOffset.TryParseExact(text, ConditionValues.InstantFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out var value) ? (true, value) : (false, default);

    private static (bool Ok, DateTimeOffset Value) Fast(string text) =>
        ConditionValues.TryParseInstant(text, out var value) ? (true, value) : (false, default);

    [Theory]
    [InlineData("2026-03-01T00:00:00Z")]
    [InlineData("2026-03-01T23:59:59.1234567Z")]
    [InlineData("2026-03-01T23:59:59.1Z")]
    [InlineData("2026-03-01T12:30:00+02:00")]
    [InlineData("2026-03-01T12:30:00-13:59")]
    [InlineData("2026-03-01T12:30:00+14:00")]
    [InlineData("2026-03-01T12:30:00+15:00")]
    [InlineData("2026-03-01T12:30:00")]
    [InlineData("2024-02-29T00:00:00Z")]
    [InlineData("2026-02-29T00:00:00Z")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("2026-03-01T24:00:00Z")]
    [InlineData("2026-03-01T00:60:00Z")]
    [InlineData("2026-03-01T00:00:60Z")]
    [InlineData("2026-03-01T00:00:00.12345678Z")]
    [InlineData("2026-03-01T00:00:00.Z")]
    [InlineData("2026-03-01t00:00:00z")]
    [InlineData("2026-03-01T00:00:00+0200")]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:59:59-01:00")]
    [InlineData("0000-01-01T00:00:00Z")]
    [InlineData("2026-03-01")]
    [InlineData("2026-03-01T10:15Z")]
    [InlineData("2026-03-01T10:15:00 Z")]
    [InlineData("２０２６-03-01T00:00:00Z")]
    public void Agrees_with_the_general_parser(string text) => Fast(text).Should().Be(General(text), text);

    [Fact]
    public void Agrees_on_generated_instants_and_their_mutations()
    {
        var random = new Random(20261202);
        for (var i = 0; i < 20_000; i++)
        {
            var instant = new DateTime(1, 1, 1).AddTicks((long)(random.NextDouble() * DateTime.MaxValue.Ticks));
            var text = instant.ToString(random.Next(3) switch
            {
                0 => "yyyy-MM-ddTHH:mm:ss",
                1 => "yyyy-MM-ddTHH:mm:ss.fff",
                _ => "yyyy-MM-ddTHH:mm:ss.fffffff",
            }, CultureInfo.InvariantCulture) + random.Next(3) switch
            {
                0 => "Z",
                1 => $"{(random.Next(2) == 0 ? '+' : '-')}{random.Next(16):D2}:{random.Next(61):D2}",
                _ => "",
            };
            if (random.Next(4) == 0)
            {
                var chars = text.ToCharArray();
                chars[random.Next(chars.Length)] = "0123456789:-+TZ. x"[random.Next(18)];
                text = new string(chars);
            }
            Fast(text).Should().Be(General(text), text);
        }
    }
}
