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
    internal static readonly string[] InstantFormats =
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
        TryParseRfc3339(text, out value) || DateTimeOffset.TryParseExact(
            text, InstantFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);

    // The shape nearly every caller sends, yyyy-MM-ddTHH:mm:ss[.fraction][Z|+HH:mm|-HH:mm], read
    // digit by digit: before/after conditions parse the request's attribute on every evaluation, and
    // the general parser tries each format in turn. Anything else (or out of range) is left to it,
    // so both accept exactly the same inputs and give the same instants.
    private static bool TryParseRfc3339(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        value = default;
        if (text.Length < 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':'
            || !Digits(text, 0, 4, out var year) || !Digits(text, 5, 2, out var month) || !Digits(text, 8, 2, out var day)
            || !Digits(text, 11, 2, out var hour) || !Digits(text, 14, 2, out var minute) || !Digits(text, 17, 2, out var second)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var at = 19;
        long fraction = 0;
        if (at < text.Length && text[at] == '.')
        {
            var digits = 0;
            for (at++; at < text.Length && char.IsAsciiDigit(text[at]); at++, digits++)
            {
                if (digits == 7)
                {
                    return false;
                }
                fraction = fraction * 10 + (text[at] - '0');
            }
            if (digits == 0)
            {
                return false;
            }
            for (; digits < 7; digits++)
            {
                fraction *= 10;
            }
        }

        var offset = TimeSpan.Zero;
        var rest = text[at..];
        if (rest.Length == 1 && rest[0] == 'Z')
        {
        }
        else if (rest.Length == 6 && rest[0] is '+' or '-' && rest[3] == ':'
                 && Digits(rest, 1, 2, out var offsetHours) && Digits(rest, 4, 2, out var offsetMinutes)
                 && offsetHours < 14 && offsetMinutes <= 59)
        {
            offset = new TimeSpan(offsetHours, offsetMinutes, 0);
            if (rest[0] == '-')
            {
                offset = -offset;
            }
        }
        else if (rest.Length != 0)
        {
            return false;
        }

        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(fraction);
        var utcTicks = local.Ticks - offset.Ticks;
        if (utcTicks < DateTime.MinValue.Ticks || utcTicks > DateTime.MaxValue.Ticks)
        {
            return false;
        }
        value = new DateTimeOffset(local, offset);
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> text, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(text[i]))
            {
                return false;
            }
            value = value * 10 + (text[i] - '0');
        }
        return true;
    }

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
