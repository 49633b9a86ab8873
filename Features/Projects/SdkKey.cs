using System.Security.Cryptography;

namespace FlagService.Features.Projects;

public static class SdkKey
{
    public const string Prefix = "sdk_";
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    // 32 characters from a 62-letter alphabet, unbiased, from the OS's cryptographic RNG: ~190 bits.
    public static string New() => Prefix + RandomNumberGenerator.GetString(Alphabet, 32);
}
