using System.Text.RegularExpressions;

namespace FlagService.Features.Auth;

public static partial class EmailAddress
{
    public const int MaxLength = 254;

    // local@domain.tld: no spaces, exactly one @, a dot in the domain with something on both sides.
    public static bool LooksValid(string email) => email.Length <= MaxLength && Shape().IsMatch(email);

    [GeneratedRegex(@"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
