using System.Text.RegularExpressions;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Flags;

public static partial class FlagInput
{
    public static void Key(FieldErrors errors, string? key)
    {
        if (key is null)
        {
            errors.Add("key", "is required");
        }
        else if (!KeyPattern().IsMatch(key))
        {
            errors.Add("key", "must match ^[a-z][a-z0-9_-]{0,63}$ (a lower-case letter, then up to 63 lower-case letters, digits, '_' or '-')");
        }
    }

    public static void Rollout(FieldErrors errors, int? rollout)
    {
        if (rollout is < 0 or > 100)
        {
            errors.Add("rollout_percentage", "must be an integer from 0 to 100");
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();
}
