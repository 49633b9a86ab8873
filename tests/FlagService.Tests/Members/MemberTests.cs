using System.Net;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Members;

public sealed class MemberTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static string Members(string projectId) => $"/api/projects/{projectId}/members";

    [Fact]
    public async Task Creator_is_the_first_owner_and_projects_list_shows_each_callers_role()
    {
        var owner = await app.AuthenticatedClientAsync();
        var viewerEmail = Api.UniqueEmail();
        var viewer = await app.AuthenticatedClientAsync(viewerEmail);
        var projectId = (await owner.CreateProjectAsync())["id"]!.GetValue<string>();

        (await owner.PostJsonAsync(Members(projectId), new { email = viewerEmail.ToUpperInvariant(), role = "viewer" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        var members = await (await owner.GetAsync(Members(projectId))).ReadAsync<JsonArray>();
        members.Select(m => m!["role"]!.GetValue<string>()).Should().Equal("owner", "viewer");
        members[1]!["email"]!.GetValue<string>().Should().Be(viewerEmail);
        var listed = await (await viewer.GetAsync("/api/projects")).ReadAsync<JsonArray>();
        listed.Should().ContainSingle();
        listed[0]!["id"]!.GetValue<string>().Should().Be(projectId);
        listed[0]!["role"]!.GetValue<string>().Should().Be("viewer");
    }

    [Fact]
    public async Task Last_owner_cannot_leave_or_be_demoted_but_can_once_another_owner_exists()
    {
        var owner = await app.AuthenticatedClientAsync();
        var ownerId = (await (await owner.GetAsync("/api/me")).ReadObjectAsync())["id"]!.GetValue<string>();
        var secondEmail = Api.UniqueEmail();
        var second = await app.AuthenticatedClientAsync(secondEmail);
        var projectId = (await owner.CreateProjectAsync())["id"]!.GetValue<string>();

        await (await owner.PutJsonAsync($"{Members(projectId)}/{ownerId}", new { role = "editor" })).ShouldBeProblemAsync(409);
        await (await owner.DeleteAsync($"{Members(projectId)}/{ownerId}")).ShouldBeProblemAsync(409);

        (await owner.PostJsonAsync(Members(projectId), new { email = secondEmail, role = "owner" })).EnsureSuccessStatusCode();
        var demoted = await owner.PutJsonAsync($"{Members(projectId)}/{ownerId}", new { role = "viewer" });
        demoted.StatusCode.Should().Be(HttpStatusCode.OK);
        (await demoted.ReadObjectAsync())["role"]!.GetValue<string>().Should().Be("viewer");
        (await owner.DeleteAsync($"{Members(projectId)}/{ownerId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await owner.GetAsync($"/api/projects/{projectId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await second.GetAsync($"/api/projects/{projectId}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Member_may_remove_themselves_but_not_others_unless_owner()
    {
        var owner = await app.AuthenticatedClientAsync();
        var (aEmail, bEmail) = (Api.UniqueEmail(), Api.UniqueEmail());
        var a = await app.AuthenticatedClientAsync(aEmail);
        var b = await app.AuthenticatedClientAsync(bEmail);
        var projectId = (await owner.CreateProjectAsync())["id"]!.GetValue<string>();
        (await owner.PostJsonAsync(Members(projectId), new { email = aEmail, role = "editor" })).EnsureSuccessStatusCode();
        (await owner.PostJsonAsync(Members(projectId), new { email = bEmail, role = "editor" })).EnsureSuccessStatusCode();
        var members = await (await owner.GetAsync(Members(projectId))).ReadAsync<JsonArray>();
        string Id(string email) => members.Single(m => m!["email"]!.GetValue<string>() == email)!["user_id"]!.GetValue<string>();

        var refused = await (await a.DeleteAsync($"{Members(projectId)}/{Id(bEmail)}")).ShouldBeProblemAsync(403);
        refused["required_role"]!.GetValue<string>().Should().Be("owner");
        (await a.DeleteAsync($"{Members(projectId)}/{Id(aEmail)}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await a.GetAsync($"/api/projects/{projectId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await owner.DeleteAsync($"{Members(projectId)}/{Id(bEmail)}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await b.GetAsync($"/api/projects/{projectId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"email":"x@example.com","role":"admin"}""", "role", "must be one of")]
    [InlineData("""{"email":"nope","role":"viewer"}""", "email", "must look like")]
    [InlineData("""{"role":"viewer"}""", "email", "is required")]
    public async Task Add_member_with_invalid_body_returns_400_naming_field(string body, string field, string rule)
    {
        var owner = await app.AuthenticatedClientAsync();
        var projectId = (await owner.CreateProjectAsync())["id"]!.GetValue<string>();

        await (await owner.PostRawAsync(Members(projectId), body)).ShouldBeValidationErrorAsync(field, rule);
    }

    [Theory]
    [InlineData("/api/projects", """{"name":"a","name":"b"}""", "name")]
    [InlineData("/auth/register", """{"email":"d@example.com","password":"correct horse battery","email":"e@example.com"}""", "email")]
    [InlineData("/sdk/v1/evaluate", """{"user_id":"a","user_id":"b"}""", "user_id")]
    [InlineData("/sdk/v1/evaluate", """{"custom_attributes":{"plan":"a","plan":"b"}}""", "custom_attributes.plan")]
    [InlineData("/sdk/v1/evaluate", """{"custom_attributes":{"plan":"a","seats":1,"pl\u0061n":"b"}}""", "custom_attributes.plan")]
    [InlineData("/sdk/v1/evaluate", """{"custom_attributes":{"seats":1,"plan":"a","country":"FR","plan":"b"}}""", "custom_attributes.plan")]
    public async Task Body_with_a_duplicate_property_returns_400_naming_it(string url, string body, string field)
    {
        var owner = await app.AuthenticatedClientAsync();
        var project = await owner.CreateProjectAsync();
        owner.DefaultRequestHeaders.Add("X-SDK-Key", project["sdk_key"]!.GetValue<string>());

        await (await owner.PostRawAsync(url, body)).ShouldBeValidationErrorAsync(field, "must appear only once");
        (await (await owner.GetAsync("/api/projects")).Content.ReadAsStringAsync()).Should().NotContain("\"b\"");
    }
}
