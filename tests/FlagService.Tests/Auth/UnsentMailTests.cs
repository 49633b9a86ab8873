using System.Net;
using System.Net.Http.Headers;
using Dapper;
using FlagService.Tests.Infrastructure;
using Npgsql;

namespace FlagService.Tests.Auth;

// Without an SMTP server, what would have been mailed (reset and invitation links, each a secret)
// reaches the log in Development only; in any other environment a warning says mail is not configured.
public sealed class UnsentMailTests
{
    private static async Task<(CapturedLog Log, NpgsqlConnection Db)> MailBothAsync(TestDatabase database, string environment)
    {
        var log = new CapturedLog();
        await using var factory = new FlagServiceFactory(database.ConnectionString, services: log.AddTo, environment: environment);
        var client = factory.CreateClient();
        var email = Api.UniqueEmail();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await client.RegisterAndLoginAsync(email));
        var project = await client.CreateProjectAsync();

        (await client.PostJsonAsync("/auth/forgot-password", new { email })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await client.PostJsonAsync($"/api/projects/{project["id"]}/members", new { email = Api.UniqueEmail(), role = "viewer" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        // Both messages were composed (the mailer handles them in order) before the app stops.
        (await Eventually.TrueAsync(() => log.Lines.Count(l => l.Contains("FlagService.Infrastructure.Mail.Mailer")) == 2))
            .Should().BeTrue(log.Text);
        return (log, new NpgsqlConnection(database.ConnectionString));
    }

    [Fact]
    public async Task Without_smtp_in_production_no_reset_or_invitation_link_reaches_the_log_only_a_warning()
    {
        await using var database = await TestDatabase.CreateAsync();

        var (log, db) = await MailBothAsync(database, "Production");

        await using (db)
        {
            (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM password_resets")).Should().Be(1, "a reset token was made");
            (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM project_invitations")).Should().Be(1, "an invitation was made");
        }
        log.Lines.Where(l => l.Contains("Mail is not configured")).Should().HaveCount(2, log.Text);
        log.Text.Should().NotContain("token=").And.NotContain("/reset-password").And.NotContain("/invitations/accept");
    }

    [Fact]
    public async Task Without_smtp_in_development_the_links_are_logged_for_the_developer()
    {
        await using var database = await TestDatabase.CreateAsync();

        var (log, db) = await MailBothAsync(database, "Development");

        await db.DisposeAsync();
        log.Text.Should().MatchRegex(@"/reset-password\?token=[A-Za-z0-9_-]{43}").And.MatchRegex(@"/invitations/accept\?token=[A-Za-z0-9_-]{43}");
    }
}
