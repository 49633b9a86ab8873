using FlagService.Features.Auth;
using FlagService.Features.Auth.Register;
using FlagService.Features.Environments;
using FlagService.Infrastructure;
using FlagService.Infrastructure.Auth;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlagService.Tests.Unit;

public sealed class SdkKeyTests
{
    [Theory]
    [InlineData("sdk_")]
    [InlineData("srv_")]
    public void New_key_has_the_documented_format_and_does_not_repeat(string prefix)
    {
        var keys = Enumerable.Range(0, 1000)
            .Select(_ => prefix == "sdk_" ? EnvironmentKeys.NewSdkKey() : EnvironmentKeys.NewServerKey()).ToList();
        keys.Should().AllSatisfy(k => k.Should().MatchRegex($"^{prefix}[A-Za-z0-9]{{32}}$"));
        keys.Should().OnlyHaveUniqueItems();
        // Every character class shows up: the alphabet is used whole.
        string.Concat(keys).Should().ContainAny("A", "Z").And.ContainAny("a", "z").And.ContainAny("0", "9");
    }
}

public sealed class PasswordHasherTests
{
    [Fact]
    public void Hash_with_default_cost_is_argon2id_and_verifies_only_the_right_password()
    {
        var hasher = new PasswordHasher(Options.Create(new PasswordHashingOptions()));

        var hash = hasher.Hash("correct horse");

        hash.Should().StartWith("$argon2id$v=19$m=19456,t=2,p=1$");
        hasher.Verify(hash, "correct horse").Should().BeTrue();
        hasher.Verify(hash, "correct horsf").Should().BeFalse();
        hasher.Hash("correct horse").Should().NotBe(hash, "each hash has its own salt");
    }

    [Fact]
    public void Verify_without_a_stored_hash_is_false()
    {
        var hasher = new PasswordHasher(Options.Create(new PasswordHashingOptions { MemoryKiB = 1024, Iterations = 1 }));
        hasher.Verify(null, "anything").Should().BeFalse();
    }
}

public sealed class InputValidationTests
{
    [Theory]
    [InlineData("a@b.co", true)]
    [InlineData("first.last+tag@sub.example.org", true)]
    [InlineData("a@b", false)]
    [InlineData("@b.co", false)]
    [InlineData("a@.co", false)]
    [InlineData("a@b.", false)]
    [InlineData("a b@c.de", false)]
    public void Email_shape_is_local_at_domain_dot_tld(string email, bool valid) =>
        EmailAddress.LooksValid(email).Should().Be(valid);

    [Fact]
    public void Register_validation_reports_every_broken_field()
    {
        var errors = Register.Validate(new Register.RegisterRequest("nope", "short"), out _).ToDictionary();
        errors.Keys.Should().BeEquivalentTo("email", "password");
    }
}

public sealed class PostgresUrlTests
{
    [Fact]
    public void Url_is_converted_to_a_keyword_connection_string()
    {
        var cs = new NpgsqlConnectionStringBuilder(PostgresUrl.ToConnectionString("postgres://app:p%40ss@db.internal:6543/flags?sslmode=require"));
        cs.Host.Should().Be("db.internal");
        cs.Port.Should().Be(6543);
        cs.Username.Should().Be("app");
        cs.Password.Should().Be("p@ss");
        cs.Database.Should().Be("flags");
        cs.SslMode.Should().Be(SslMode.Require);
    }

    [Fact]
    public void Url_without_port_uses_5432_and_keyword_strings_pass_through()
    {
        new NpgsqlConnectionStringBuilder(PostgresUrl.ToConnectionString("postgresql://u:p@localhost/db")).Port.Should().Be(5432);
        PostgresUrl.ToConnectionString("Host=h;Database=d").Should().Be("Host=h;Database=d");
    }
}
