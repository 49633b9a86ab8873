using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FlagService.Features.Evaluation;

// Parsing shared by write-time validation and Compile, so both accept exactly the same inputs.
public static class ConditionValues
{
    public const int MaxRegexLength = 256;

    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    // ISO 8601 in the RFC 3339 shape; a missing offset means UTC, a bare date means midnight UTC.
    private static readonly string[] InstantFormats =
    [
        "yyyy-MM-dd",
        "yyyy-MM-ddTHH:mmK",
        "yyyy-MM-ddTHH:mm:ssK",
        "yyyy-MM-ddTHH:mm:ss.FFFFFFFK",
    ];

    // Invariant culture so "1,5" is not a number anywhere; NaN and infinities are refused because they do not order.
    public static bool TryParseNumber(ReadOnlySpan<char> text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    public static bool TryParseNumber(JsonElement element, out double value)
    {
        value = 0;
        return element.ValueKind switch
        {
            JsonValueKind.Number => element.TryGetDouble(out value) && double.IsFinite(value),
            JsonValueKind.String => TryParseNumber(element.GetString(), out value),
            _ => false,
        };
    }

    public static bool TryParseInstant(ReadOnlySpan<char> text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(
            text, InstantFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);

    public static bool TryCreateRegex(string pattern, bool ignoreCase, out Regex? regex, out string? error)
    {
        regex = null;
        error = null;
        if (pattern.Length > MaxRegexLength)
        {
            error = $"must be a regular expression of at most {MaxRegexLength} characters";
            return false;
        }

        // NonBacktracking runs in time linear in the input, so a user's pattern cannot stall a request.
        var options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;
        if (ignoreCase)
        {
            options |= RegexOptions.IgnoreCase;
        }

        try
        {
            regex = new Regex(pattern, options, RegexTimeout);
            return true;
        }
        catch (ArgumentException e)
        {
            error = $"must be a valid regular expression: {e.Message}";
        }
        catch (NotSupportedException)
        {
            error = "must be a regular expression without backreferences, lookarounds or atomic groups (linear-time engine)";
        }

        return false;
    }
}
