using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dapper;
using FlagService.Tests.Auth;
using FlagService.Tests.Infrastructure;
using MimeKit;
using Npgsql;

namespace FlagService.Tests.Members;

// Adding an e-mail without an account e-mails a single-use link; only the signed-in owner of that
// address can accept it. Mail goes through the SMTP server scripts/test.sh starts (MailFixture).
public sealed partial class InvitationTests(MailFixture app) : IClassFixture<MailFixture>
{
    private const string Accept = "/api/invitations/accept";

    private static string Members(string projectId) => $"/api/projects/{projectId}/members";

    [GeneratedRegex(@"https://flags\.example\.test/invitations/accept\?token=([A-Za-z0-9_\-]{43})")]
    private static partial Regex Link();

    private static async Task<string> InvitationTokenAsync(string email)
    {
        var mail = await PasswordResetTests.MailToAsync(email, Eventually.Patience);
        mail.Should().NotBeNull($"the invitation to {email} reaches the SMTP server");
        var link = Link().Match(mail!.TextBody ?? "");
        link.Success.Should().BeTrue(mail.TextBody);
        return link.Groups[1].Value;
    }

    private async Task<(HttpClient Owner, string ProjectId)> ProjectAsync()
    {
        var owner = await app.AuthenticatedClientAsync();
        return (owner, (await owner.CreateProjectAsync("Team project"))["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Invited_address_gets_a_link_that_its_signed_in_owner_accepts_once_and_registering_alone_grants_nothing()
    {
        var (owner, projectId) = await ProjectAsync();
        var existingEmail = Api.UniqueEmail();
        await app.AuthenticatedClientAsync(existingEmail);
        var newEmail = Api.UniqueEmail();

        var added = await owner.PostJsonAsync(Members(projectId), new { email = existingEmail, role = "editor" });
        var invited = await owner.PostJsonAsync(Members(projectId), new { email = newEmail, role = "editor" });

        // The same status and the same body shape: the answer does not tell who has an account.
        invited.StatusCode.Should().Be(HttpStatusCode.Created);
        added.StatusCode.Should().Be(HttpStatusCode.Created);
        (await invited.ReadObjectAsync()).Select(p => p.Key).Should().Equal((await added.ReadObjectAsync()).Select(p => p.Key));
        (await invited.ReadObjectAsync())["role"]!.GetValue<string>().Should().Be("editor");

        // Registering the invited address gives no access: nobody proved they own it yet.
        var newcomer = await app.AuthenticatedClientAsync(newEmail);
        await (await newcomer.GetAsync($"/api/projects/{projectId}")).ShouldBeProblemAsync(404);
        (await (await newcomer.GetAsync("/api/projects")).ReadAsync<JsonArray>()).Should().BeEmpty();

        var token = await InvitationTokenAsync(newEmail);
        (await PasswordResetTests.MailToAsync(existingEmail, TimeSpan.Zero)).Should().BeNull("an account is added at once, with no mail (mailed in order, before the invitation)");
        await using (var db = new NpgsqlConnection(app.ConnectionString))
        {
            var stored = await db.QuerySingleAsync<(byte[] Hash, DateTime ExpiresAt)>(
                "SELECT token_hash, expires_at FROM project_invitations WHERE email = @newEmail", new { newEmail });
            stored.Hash.Should().Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token)), "only the token's hash is stored");
            stored.ExpiresAt.Should().BeCloseTo(DateTime.UtcNow.AddDays(7), TimeSpan.FromHours(1));
        }

        var stranger = await app.AuthenticatedClientAsync();
        await (await stranger.PostJsonAsync(Accept, new { token })).ShouldBeProblemAsync(403);
        var newcomersToken = await TeamScenario.TokenClientAsync(app, newcomer, new { name = "ci" });
        await (await newcomersToken.PostJsonAsync(Accept, new { token })).ShouldBeProblemAsync(403);

        var accepted = await newcomer.PostJsonAsync(Accept, new { token });

        accepted.StatusCode.Should().Be(HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
        var membership = await accepted.ReadObjectAsync();
        (membership["project_id"]!.GetValue<string>(), membership["project_name"]!.GetValue<string>(), membership["role"]!.GetValue<string>())
            .Should().Be((projectId, "Team project", "editor"));
        var flag = await newcomer.PostJsonAsync($"/api/projects/{projectId}/flags", new { name = "A", key = "a" });
        flag.StatusCode.Should().Be(HttpStatusCode.Created, await flag.Content.ReadAsStringAsync());
        var members = await (await owner.GetAsync(Members(projectId))).ReadAsync<JsonArray>();
        members.Select(m => m!["email"]!.GetValue<string>()).Should().HaveCount(3).And.Contain([existingEmail, newEmail]);
        await (await newcomer.PostJsonAsync(Accept, new { token })).ShouldBeProblemAsync(410);

        var audit = await (await owner.GetAsync($"/api/projects/{projectId}/audit?resource_type=member")).ReadObjectAsync();
        var entry = audit["items"]!.AsArray().First(i => i!["action"]!.GetValue<string>() == "invitation.accepted")!;
        (entry["actor"]!["email"]!.GetValue<string>(), entry["resource_key"]!.GetValue<string>(), entry["after"]!["role"]!.GetValue<string>())
            .Should().Be((newEmail, newEmail, "editor"));
    }

    [Fact]
    public async Task Replaced_unknown_missing_and_expired_tokens_are_refused()
    {
        var (owner, projectId) = await ProjectAsync();
        var email = Api.UniqueEmail();
        (await owner.PostJsonAsync(Members(projectId), new { email, role = "viewer" })).EnsureSuccessStatusCode();
        var first = await InvitationTokenAsync(email);

        // Inviting the address again sends a new link; the older one no longer names an invitation.
        foreach (var file in Directory.GetFiles(MailFixture.MailDirectory, "*.eml"))
        {
            if ((await MimeMessage.LoadAsync(file)).To.Mailboxes.Any(m => m.Address == email))
            {
                File.Delete(file);
            }
        }
        (await owner.PostJsonAsync(Members(projectId), new { email, role = "editor" })).EnsureSuccessStatusCode();
        var second = await InvitationTokenAsync(email);
        second.Should().NotBe(first);

        var invitee = await app.AuthenticatedClientAsync(email);
        await (await invitee.PostJsonAsync(Accept, new { token = first })).ShouldBeProblemAsync(404);
        await (await invitee.PostJsonAsync(Accept, new { token = "not-a-token" })).ShouldBeProblemAsync(404);
        await (await invitee.PostJsonAsync(Accept, new { })).ShouldBeValidationErrorAsync("token", "is required");
        (await app.CreateClient().PostJsonAsync(Accept, new { token = second })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        await using var db = new NpgsqlConnection(app.ConnectionString);
        await db.ExecuteAsync("UPDATE project_invitations SET expires_at = now() - interval '1 second' WHERE email = @email", new { email });
        await (await invitee.PostJsonAsync(Accept, new { token = second })).ShouldBeProblemAsync(410);
        await db.ExecuteAsync("UPDATE project_invitations SET expires_at = now() + interval '1 day' WHERE email = @email", new { email });
        (await (await invitee.PostJsonAsync(Accept, new { token = second })).ReadObjectAsync())["role"]!.GetValue<string>().Should().Be("editor");
    }
}
