using System.Security.Cryptography;

namespace FlagService.Features.Environments;

// The secrets an environment is reached by: an sdk key (browsers and servers) and a server key
// (servers only). 32 characters from a 62-letter alphabet, unbiased, from the OS's cryptographic
// RNG: ~190 bits each.
public static class EnvironmentKeys
{
    public const string SdkPrefix = "sdk_";
    public const string ServerPrefix = "srv_";
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static string NewSdkKey() => SdkPrefix + RandomNumberGenerator.GetString(Alphabet, 32);

    public static string NewServerKey() => ServerPrefix + RandomNumberGenerator.GetString(Alphabet, 32);
}
