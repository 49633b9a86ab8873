using FlagService.Features.Flags;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Environments;

public static class EnvironmentInput
{
    // The flag-key pattern, and never a UUID: {env} in a path is a key or an id, so a key that
    // parsed as a UUID would name nothing.
    public static void Key(FieldErrors errors, string? key)
    {
        FlagInput.Key(errors, key);
        if (key is not null && Guid.TryParse(key, out _))
        {
            errors.Add("key", "must not be shaped like a UUID (paths accept an environment's key or its id)");
        }
    }
}
