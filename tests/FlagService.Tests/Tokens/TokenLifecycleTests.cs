using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Dapper;
using FlagService.Tests.Infrastructure;
using Npgsql;

namespace FlagService.Tests.Tokens;

public sealed class TokenLifecycleTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static HttpClient WithToken(HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    [Fact]
    public async Task Created_token_is_shown_once_stored_as_a_hash_and_acts_as_its_owner()
    {
        var owner = await app.AuthenticatedClientAsync();
        var project = await owner.CreateProjectAsync();

        var response = await owner.PostJsonAsync("/api/tokens", new { name = "ci" });

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var created = await response.ReadObjectAsync();
        var token = created["token"]!.GetValue<string>();
        token.Should().MatchRegex("^fst_[A-Za-z0-9]{40}$");
        created["prefix"]!.GetValue<string>().Should().Be(token[..8]);
        created["role"]!.GetValue<string>().Should().Be("editor");
        await using (var db = new NpgsqlConnection(app.ConnectionString))
        {
            var stored = await db.QuerySingleAsync<byte[]>("SELECT token_hash FROM api_tokens WHERE id = @Id",
                new { Id = Guid.Parse(created["id"]!.GetValue<string>()) });
            stored.Should().Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
        }

        var ci = WithToken(app.CreateClient(), token);
        var flag = await ci.PostJsonAsync($"/api/projects/{project["id"]}/flags", new { name = "A", key = "a" });
        flag.StatusCode.Should().Be(HttpStatusCode.Created, await flag.Content.ReadAsStringAsync());

        // last_used_at is written in batches, not per request.
        var used = await Eventually.TrueAsync(async () =>
        {
            var list = await (await owner.GetAsync("/api/tokens")).ReadAsync<JsonArray>();
            return list.Single()!["last_used_at"] is not null;
        });
        used.Should().BeTrue();
        (await owner.GetStringAsync("/api/tokens")).Should().NotContain(token).And.NotContain("token_hash");
    }

    [Fact]
    public async Task Token_cannot_create_tokens_or_manage_members_and_never_authenticates_the_sdk()
    {
        var owner = await app.AuthenticatedClientAsync();
        var project = await owner.CreateProjectAsync();
        var token = (await (await owner.PostJsonAsync("/api/tokens", new { name = "ci", role = "owner" })).ReadObjectAsync())["token"]!.GetValue<string>();
        var ci = WithToken(app.CreateClient(), token);

        await (await ci.PostJsonAsync("/api/tokens", new { name = "more" })).ShouldBeProblemAsync(403);
        await (await ci.PostJsonAsync($"/api/projects/{project["id"]}/members", new { email = "x@example.com", role = "owner" })).ShouldBeProblemAsync(403);
        (await ci.PostRawAsync("/sdk/v1/evaluate", "{}")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Token_even_a_capped_viewer_one_cannot_list_or_revoke_its_owners_tokens()
    {
        var owner = await app.AuthenticatedClientAsync();
        var project = await owner.CreateProjectAsync();
        var other = await (await owner.PostJsonAsync("/api/tokens", new { name = "deploy" })).ReadObjectAsync();
        var viewer = await TeamScenario.TokenClientAsync(app, owner,
            new { name = "read-only", role = "viewer", project_id = project["id"]!.GetValue<string>() });

        var listed = await (await viewer.GetAsync("/api/tokens")).ShouldBeProblemAsync(403);
        listed["detail"]!.GetValue<string>().Should().Contain("login");
        await (await viewer.DeleteAsync($"/api/tokens/{other["id"]}")).ShouldBeProblemAsync(403);
        await (await viewer.DeleteAsync($"/api/tokens/{Guid.NewGuid()}")).ShouldBeProblemAsync(403);

        var tokens = await (await owner.GetAsync("/api/tokens")).ReadAsync<JsonArray>();
        tokens.Select(t => t!["name"]!.GetValue<string>()).Should().BeEquivalentTo("deploy", "read-only");
    }

    [Fact]
    public async Task Expired_unknown_and_revoked_tokens_get_401_and_revocation_reaches_a_second_instance()
    {
        var owner = await app.AuthenticatedClientAsync();
        var token = await (await owner.PostJsonAsync("/api/tokens", new { name = "ci" })).ReadObjectAsync();

        await using var instanceB = new FlagServiceFactory(app.ConnectionString);
        var onA = WithToken(app.CreateClient(), token["token"]!.GetValue<string>());
        var onB = WithToken(instanceB.CreateClient(), token["token"]!.GetValue<string>());
        (await onA.GetAsync("/api/projects")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await onB.GetAsync("/api/projects")).StatusCode.Should().Be(HttpStatusCode.OK); // cached on B now

        (await owner.DeleteAsync($"/api/tokens/{token["id"]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        // "Within a second" is how long an instance may trust a looked-up token: a setting, checked
        // as one; the wait below only needs the revocation to arrive.
        FlagService.Infrastructure.Auth.ApiTokenCache.MaxAge.Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(1));
        (await Eventually.TrueAsync(async () => (await onB.GetAsync("/api/projects")).StatusCode == HttpStatusCode.Unauthorized))
            .Should().BeTrue();
        (await onA.GetAsync("/api/projects")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        var expiring = await (await owner.PostJsonAsync("/api/tokens",
            new { name = "short", expires_at = DateTimeOffset.UtcNow.AddSeconds(2).ToString("O") })).ReadObjectAsync();
        var expired = WithToken(app.CreateClient(), expiring["token"]!.GetValue<string>());
        (await expired.GetAsync("/api/projects")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Eventually.TrueAsync(async () => (await expired.GetAsync("/api/projects")).StatusCode == HttpStatusCode.Unauthorized))
            .Should().BeTrue("the token expires two seconds after it was made");

        var unknown = WithToken(app.CreateClient(), "fst_" + new string('x', 40));
        (await unknown.GetAsync("/api/projects")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("""{"name":"ci","role":"admin"}""", "role", "must be one of")]
    [InlineData("""{"role":"viewer"}""", "name", "is required")]
    [InlineData("""{"name":"ci","expires_at":"2001-01-01T00:00:00Z"}""", "expires_at", "in the future")]
    [InlineData("""{"name":"ci","project_id":"00000000-0000-0000-0000-000000000001"}""", "project_id", "no project")]
    public async Task Create_token_with_invalid_body_returns_400_naming_field(string body, string field, string rule)
    {
        var owner = await app.AuthenticatedClientAsync();

        await (await owner.PostRawAsync("/api/tokens", body)).ShouldBeValidationErrorAsync(field, rule);
    }

    [Fact]
    public async Task Revoking_someone_elses_token_returns_404()
    {
        var owner = await app.AuthenticatedClientAsync();
        var other = await app.AuthenticatedClientAsync();
        var token = await (await owner.PostJsonAsync("/api/tokens", new { name = "ci" })).ReadObjectAsync();

        (await other.DeleteAsync($"/api/tokens/{token["id"]}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await other.GetAsync("/api/tokens")).Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await (await other.GetAsync("/api/tokens")).ReadAsync<JsonArray>()).Should().BeEmpty();
    }
}

public sealed class CappedTokenTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Tokens_capped_to_one_project_or_to_viewer_cannot_create_projects()
    {
        var owner = await app.AuthenticatedClientAsync();
        var project = await owner.CreateProjectAsync();
        var viewer = await TeamScenario.TokenClientAsync(app, owner, new { name = "reader", role = "viewer" });
        var capped = await TeamScenario.TokenClientAsync(app, owner, new { name = "one project", project_id = project["id"]!.GetValue<string>() });
        var editor = await TeamScenario.TokenClientAsync(app, owner, new { name = "automation" });

        await (await viewer.PostJsonAsync("/api/projects", new { name = "Mine" })).ShouldBeProblemAsync(403);
        await (await capped.PostJsonAsync("/api/projects", new { name = "Mine" })).ShouldBeProblemAsync(403);
        (await editor.PostJsonAsync("/api/projects", new { name = "Automation's" })).StatusCode.Should().Be(System.Net.HttpStatusCode.Created);
        (await (await owner.GetAsync("/api/projects")).ReadAsync<System.Text.Json.Nodes.JsonArray>()).Should().HaveCount(2, "only the editor token's project was made");
    }
}
