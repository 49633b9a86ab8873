using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Dapper;
using FlagService.Tests.Infrastructure;
using MimeKit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FlagService.Tests.Auth;

// The app mails through the SMTP server scripts/test.sh starts (tests/smtp-sink.py), which stores
// every message in FLAGSERVICE_TEST_MAIL_DIR.
public sealed class MailFixture : AppFixture
{
    public const string PublicUrl = "https://flags.example.test";

    public static string MailDirectory => Environment.GetEnvironmentVariable("FLAGSERVICE_TEST_MAIL_DIR")
        ?? throw new InvalidOperationException("FLAGSERVICE_TEST_MAIL_DIR is not set: run the suite with scripts/test.sh, which starts the SMTP server.");

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Smtp:Host"] = "127.0.0.1",
        ["Smtp:Port"] = Environment.GetEnvironmentVariable("FLAGSERVICE_TEST_SMTP_PORT")
            ?? throw new InvalidOperationException("FLAGSERVICE_TEST_SMTP_PORT is not set: run the suite with scripts/test.sh."),
        ["Smtp:Security"] = "None",
        ["Smtp:From"] = "flagservice@example.test",
        ["App:PublicUrl"] = PublicUrl,
    };
}

public sealed partial class PasswordResetTests(MailFixture app) : IClassFixture<MailFixture>
{
    private const string NewPassword = "a brand new passphrase";

    // The first message the SMTP server stored for the address (tests/smtp-sink.py), or null.
    internal static async Task<MimeMessage?> MailToAsync(string email, TimeSpan within)
    {
        MimeMessage? found = null;
        await Eventually.TrueAsync(async () =>
        {
            foreach (var file in Directory.GetFiles(MailFixture.MailDirectory, "*.eml"))
            {
                var message = await MimeMessage.LoadAsync(file);
                if (message.To.Mailboxes.Any(m => string.Equals(m.Address, email, StringComparison.OrdinalIgnoreCase)))
                {
                    found = message;
                    return true;
                }
            }
            return false;
        }, within);
        return found;
    }

    private static string TokenFrom(MimeMessage? mail)
    {
        mail.Should().NotBeNull("the reset mail reaches the SMTP server");
        var link = ResetLink().Match(mail!.TextBody ?? "");
        link.Success.Should().BeTrue(mail.TextBody);
        return Uri.UnescapeDataString(link.Groups[1].Value);
    }

    [GeneratedRegex(@"https://flags\.example\.test/reset-password\?token=([A-Za-z0-9_\-%]+)")]
    private static partial Regex ResetLink();

    private async Task<(HttpClient Client, string Email)> AccountAsync()
    {
        var email = Api.UniqueEmail();
        return (await app.AuthenticatedClientAsync(email), email);
    }

    [Fact]
    public async Task Reset_flow_mails_a_link_that_changes_the_password_once_and_ends_older_sessions()
    {
        var (client, email) = await AccountAsync();
        (await client.GetAsync("/api/me")).StatusCode.Should().Be(HttpStatusCode.OK);
        var anonymous = app.CreateClient();

        var known = await anonymous.PostJsonAsync("/auth/forgot-password", new { email = email.ToUpperInvariant() });
        var unknown = await anonymous.PostJsonAsync("/auth/forgot-password", new { email = Api.UniqueEmail() });

        known.StatusCode.Should().Be(HttpStatusCode.Accepted);
        unknown.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await known.Content.ReadAsStringAsync()).Should().Be(await unknown.Content.ReadAsStringAsync());
        var mail = await MailToAsync(email, Eventually.Patience);
        mail.Should().NotBeNull("the reset mail reaches the SMTP server");
        var token = TokenFrom(mail!);
        await using (var db = new NpgsqlConnection(app.ConnectionString))
        {
            var stored = await db.QuerySingleAsync<(byte[] Hash, DateTime ExpiresAt)>(
                "SELECT r.token_hash, r.expires_at FROM password_resets r JOIN users u ON u.id = r.user_id WHERE u.email = @email", new { email });
            stored.Hash.Should().Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
            stored.ExpiresAt.Should().BeCloseTo(DateTime.UtcNow.AddMinutes(30), TimeSpan.FromMinutes(1));
        }

        var reset = await anonymous.PostJsonAsync("/auth/reset-password", new { token, password = NewPassword });

        reset.StatusCode.Should().Be(HttpStatusCode.OK, await reset.Content.ReadAsStringAsync());
        (await client.GetAsync("/api/me")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a JWT from before the reset no longer works");
        (await anonymous.PostJsonAsync("/auth/login", new { email, password = "correct horse battery" })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var login = await anonymous.PostJsonAsync("/auth/login", new { email, password = NewPassword });
        login.StatusCode.Should().Be(HttpStatusCode.OK);
        var fresh = app.CreateClient();
        fresh.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await login.ReadObjectAsync())["token"]!.GetValue<string>());
        (await fresh.GetAsync("/api/me")).StatusCode.Should().Be(HttpStatusCode.OK, "a JWT from after the reset works");
        await (await anonymous.PostJsonAsync("/auth/reset-password", new { token, password = "yet another passphrase" }))
            .ShouldBeValidationErrorAsync("token", "already used");
    }

    [Fact]
    public async Task Reset_revokes_sessions_on_a_second_instance_too()
    {
        var (client, email) = await AccountAsync();
        var login = await (await client.PostJsonAsync("/auth/login", new { email, password = "correct horse battery" })).ReadObjectAsync();
        await using var instanceB = new FlagServiceFactory(app.ConnectionString, new Dictionary<string, string?> { ["Smtp:Host"] = "" });
        var onB = instanceB.CreateClient();
        onB.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", login["token"]!.GetValue<string>());
        await instanceB.Services.GetRequiredService<FlagService.Infrastructure.Auth.SessionValidity>().Listening.WaitAsync(TimeSpan.FromSeconds(30));
        (await onB.GetAsync("/api/me")).StatusCode.Should().Be(HttpStatusCode.OK);

        (await app.CreateClient().PostJsonAsync("/auth/forgot-password", new { email })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var token = TokenFrom((await MailToAsync(email, Eventually.Patience))!);
        (await app.CreateClient().PostJsonAsync("/auth/reset-password", new { token, password = NewPassword })).EnsureSuccessStatusCode();

        (await SdkScenario.EventuallyAsync(async () => (await onB.GetAsync("/api/me")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(5))).Should().BeTrue();
    }

    [Fact]
    public async Task Two_concurrent_uses_of_one_token_succeed_exactly_once()
    {
        var (_, email) = await AccountAsync();
        (await app.CreateClient().PostJsonAsync("/auth/forgot-password", new { email })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var token = TokenFrom((await MailToAsync(email, Eventually.Patience))!);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 2).Select(i =>
            app.CreateClient().PostJsonAsync("/auth/reset-password", new { token, password = $"{NewPassword} {i}" })));

        attempts.Count(r => r.StatusCode == HttpStatusCode.OK).Should().Be(1);
        attempts.Count(r => r.StatusCode == HttpStatusCode.BadRequest).Should().Be(1);
    }

    [Fact]
    public async Task Expired_or_unknown_token_returns_400()
    {
        var (_, email) = await AccountAsync();
        (await app.CreateClient().PostJsonAsync("/auth/forgot-password", new { email })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var token = TokenFrom((await MailToAsync(email, Eventually.Patience))!);
        await using (var db = new NpgsqlConnection(app.ConnectionString))
        {
            await db.ExecuteAsync("UPDATE password_resets r SET expires_at = now() - interval '1 second' FROM users u WHERE u.id = r.user_id AND u.email = @email", new { email });
        }

        await (await app.CreateClient().PostJsonAsync("/auth/reset-password", new { token, password = NewPassword }))
            .ShouldBeValidationErrorAsync("token", "expired");
        await (await app.CreateClient().PostJsonAsync("/auth/reset-password", new { token = "nope", password = NewPassword }))
            .ShouldBeValidationErrorAsync("token", "invalid");
        await (await app.CreateClient().PostJsonAsync("/auth/reset-password", new { token = "nope", password = "short" }))
            .ShouldBeValidationErrorAsync("password", "8 to 1024");
    }

    [Fact]
    public async Task Forgot_password_answers_known_and_unknown_emails_in_about_the_same_time()
    {
        var (_, email) = await AccountAsync();
        var client = app.CreateClient();
        async Task<double> MedianAsync(Func<string> address)
        {
            var times = new List<double>();
            for (var i = 0; i < 7; i++)
            {
                var clock = Stopwatch.StartNew();
                (await client.PostJsonAsync("/auth/forgot-password", new { email = address() })).StatusCode.Should().Be(HttpStatusCode.Accepted);
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            return times.Order().ElementAt(times.Count / 2);
        }

        var known = await MedianAsync(() => email);
        var unknown = await MedianAsync(Api.UniqueEmail);

        // Neither does the lookup nor the mail on the request path, so neither waits on them.
        Math.Abs(known - unknown).Should().BeLessThan(50, $"known {known} ms, unknown {unknown} ms");
    }
}
