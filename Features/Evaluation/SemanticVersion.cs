using System.Buffers;
using System.Globalization;

namespace FlagService.Features.Evaluation;

// Semantic Versioning 2.0.0, parsed strictly (three numeric parts without leading zeros, dot-separated
// [0-9A-Za-z-] identifiers) except for one optional leading 'v' or 'V', as in tags like "v2.4.0".
// Build metadata is validated and then dropped: it never takes part in precedence.
public readonly struct SemanticVersion : IComparable<SemanticVersion>, IEquatable<SemanticVersion>
{
    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");

    private static readonly SearchValues<char> IdentifierChars =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-");

    private readonly string? _prerelease;

    private SemanticVersion(ulong major, ulong minor, ulong patch, string prerelease)
    {
        Major = major;
        Minor = minor;
        Patch = patch;
        _prerelease = prerelease;
    }

    public ulong Major { get; }

    public ulong Minor { get; }

    public ulong Patch { get; }

    public string Prerelease => _prerelease ?? string.Empty;

    public static SemanticVersion Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a semantic version.");

    public static bool TryParse(ReadOnlySpan<char> text, out SemanticVersion version)
    {
        if (!TryParseParts(text, out var major, out var minor, out var patch, out var prerelease))
        {
            version = default;
            return false;
        }

        version = new SemanticVersion(major, minor, patch, prerelease.ToString());
        return true;
    }

    // Allocation-free form for the evaluation path: the pre-release stays a slice of the input.
    internal static bool TryParseParts(
        ReadOnlySpan<char> text, out ulong major, out ulong minor, out ulong patch, out ReadOnlySpan<char> prerelease)
    {
        major = minor = patch = 0;
        prerelease = default;
        if (text.Length > 0 && (text[0] == 'v' || text[0] == 'V'))
        {
            text = text[1..];
        }

        var plus = text.IndexOf('+');
        if (plus >= 0)
        {
            if (!AreValidIdentifiers(text[(plus + 1)..], numericStrict: false))
            {
                return false;
            }

            text = text[..plus];
        }

        var dash = text.IndexOf('-');
        var core = dash >= 0 ? text[..dash] : text;
        if (dash >= 0)
        {
            prerelease = text[(dash + 1)..];
            if (!AreValidIdentifiers(prerelease, numericStrict: true))
            {
                return false;
            }
        }

        var firstDot = core.IndexOf('.');
        if (firstDot < 0)
        {
            return false;
        }

        var rest = core[(firstDot + 1)..];
        var secondDot = rest.IndexOf('.');
        return secondDot >= 0
            && TryParseNumber(core[..firstDot], out major)
            && TryParseNumber(rest[..secondDot], out minor)
            && TryParseNumber(rest[(secondDot + 1)..], out patch);
    }

    internal static int Compare(
        ulong major, ulong minor, ulong patch, ReadOnlySpan<char> prerelease,
        ulong otherMajor, ulong otherMinor, ulong otherPatch, ReadOnlySpan<char> otherPrerelease)
    {
        var c = major.CompareTo(otherMajor);
        if (c == 0)
        {
            c = minor.CompareTo(otherMinor);
        }

        if (c == 0)
        {
            c = patch.CompareTo(otherPatch);
        }

        return c != 0 ? c : ComparePrerelease(prerelease, otherPrerelease);
    }

    public int CompareTo(SemanticVersion other) =>
        Compare(Major, Minor, Patch, Prerelease, other.Major, other.Minor, other.Patch, other.Prerelease);

    public bool Equals(SemanticVersion other) => CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is SemanticVersion other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Major, Minor, Patch, string.GetHashCode(Prerelease, StringComparison.Ordinal));

    public override string ToString() =>
        Prerelease.Length == 0 ? $"{Major}.{Minor}.{Patch}" : $"{Major}.{Minor}.{Patch}-{Prerelease}";

    public static bool operator ==(SemanticVersion left, SemanticVersion right) => left.Equals(right);

    public static bool operator !=(SemanticVersion left, SemanticVersion right) => !left.Equals(right);

    public static bool operator <(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) < 0;

    public static bool operator <=(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) > 0;

    public static bool operator >=(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) >= 0;

    // A version without pre-release ranks above any pre-release of it; otherwise identifiers compare
    // left to right: numeric ones numerically, numeric below alphanumeric, and a longer list wins a tie.
    private static int ComparePrerelease(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        if (a.IsEmpty || b.IsEmpty)
        {
            return a.IsEmpty == b.IsEmpty ? 0 : a.IsEmpty ? 1 : -1;
        }

        while (true)
        {
            var aDot = a.IndexOf('.');
            var bDot = b.IndexOf('.');
            var x = aDot >= 0 ? a[..aDot] : a;
            var y = bDot >= 0 ? b[..bDot] : b;
            var c = CompareIdentifier(x, y);
            if (c != 0)
            {
                return c;
            }

            if (aDot < 0 || bDot < 0)
            {
                return aDot < 0 == bDot < 0 ? 0 : aDot < 0 ? -1 : 1;
            }

            a = a[(aDot + 1)..];
            b = b[(bDot + 1)..];
        }
    }

    private static int CompareIdentifier(ReadOnlySpan<char> x, ReadOnlySpan<char> y)
    {
        var xNumeric = IsDigits(x);
        var yNumeric = IsDigits(y);
        if (xNumeric && yNumeric)
        {
            // No leading zeros (checked at parse), so a longer number is larger, however many digits.
            return x.Length != y.Length ? x.Length.CompareTo(y.Length) : Math.Sign(x.SequenceCompareTo(y));
        }

        if (xNumeric != yNumeric)
        {
            return xNumeric ? -1 : 1;
        }

        return Math.Sign(x.SequenceCompareTo(y));
    }

    private static bool TryParseNumber(ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        return IsDigits(s)
            && (s.Length == 1 || s[0] != '0')
            && ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool AreValidIdentifiers(ReadOnlySpan<char> s, bool numericStrict)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (var range in s.Split('.'))
        {
            var id = s[range];
            if (id.IsEmpty || id.ContainsAnyExcept(IdentifierChars))
            {
                return false;
            }

            if (numericStrict && id.Length > 1 && id[0] == '0' && IsDigits(id))
            {
                return false;
            }
        }

        return true;
    }

    // SearchValues rather than ContainsAnyExceptInRange, which was measured allocating per call on .NET 10.
    private static bool IsDigits(ReadOnlySpan<char> s) => !s.IsEmpty && !s.ContainsAnyExcept(Digits);
}
