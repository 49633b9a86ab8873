using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Isopoh.Cryptography.Argon2;
using Microsoft.Extensions.Options;

namespace FlagService.Infrastructure.Auth;

public sealed class PasswordHashingOptions
{
    public const string SectionName = "PasswordHashing";

    // OWASP's minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
    [Range(1024, 1024 * 1024)]
    public int MemoryKiB { get; set; } = 19456;

    [Range(1, 20)]
    public int Iterations { get; set; } = 2;

    [Range(1, 16)]
    public int Parallelism { get; set; } = 1;
}

public sealed class PasswordHasher(IOptions<PasswordHashingOptions> options)
{
    private readonly PasswordHashingOptions _options = options.Value;

    // Verified against when the account does not exist, so that a login for an unknown email takes
    // about as long as one with a wrong password.
    private readonly Lazy<string> _decoy = new(() => Hash(options.Value, Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))));

    public string Hash(string password) => Hash(_options, password);

    public bool Verify(string? phcHash, string password)
    {
        var matches = Argon2.Verify(phcHash ?? _decoy.Value, password);
        return phcHash is not null && matches;
    }

    private static string Hash(PasswordHashingOptions options, string password)
    {
        var config = new Argon2Config
        {
            Type = Argon2Type.HybridAddressing, // Argon2id
            Version = Argon2Version.Nineteen,
            TimeCost = options.Iterations,
            MemoryCost = options.MemoryKiB,
            Lanes = options.Parallelism,
            Threads = options.Parallelism,
            Password = Encoding.UTF8.GetBytes(password),
            Salt = RandomNumberGenerator.GetBytes(16),
            HashLength = 32,
        };
        using var argon2 = new Argon2(config);
        using var hash = argon2.Hash();
        return config.EncodeString(hash.Buffer);
    }
}
