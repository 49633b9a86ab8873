using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using FlagService.Tests.Infrastructure;
using Npgsql;

namespace FlagService.Tests.Projects;

public sealed class ProjectTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Create_valid_project_returns_201_with_sdk_key()
    {
        var client = await app.AuthenticatedClientAsync();

        var response = await client.PostJsonAsync("/api/projects", new { name = "  Web shop ", description = "Storefront" });

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var project = await response.ReadObjectAsync();
        response.Headers.Location!.ToString().Should().Be($"/api/projects/{project["id"]}");
        project["name"]!.GetValue<string>().Should().Be("Web shop");
        project["description"]!.GetValue<string>().Should().Be("Storefront");
        project["sdk_key"]!.GetValue<string>().Should().MatchRegex("^sdk_[A-Za-z0-9]{32}$");
        project["created_at"]!.GetValue<string>().Should().EndWith("Z");
        project["updated_at"].Should().NotBeNull();
    }

    [Theory]
    [InlineData(null, null, "name", "is required")]
    [InlineData("", null, "name", "must not be empty")]
    [InlineData("   ", null, "name", "must not be empty")]
    [InlineData("x", "LONG_DESCRIPTION", "description", "at most 2000")]
    [InlineData("LONG_NAME", null, "name", "at most 255")]
    public async Task Create_invalid_project_returns_400_naming_field(string? name, string? description, string field, string rule)
    {
        var client = await app.AuthenticatedClientAsync();
        name = name == "LONG_NAME" ? new string('n', 256) : name;
        description = description == "LONG_DESCRIPTION" ? new string('d', 2001) : description;

        var response = await client.PostJsonAsync("/api/projects", new { name, description });

        await response.ShouldBeValidationErrorAsync(field, rule);
    }

    [Fact]
    public async Task Create_at_the_length_limits_succeeds()
    {
        var client = await app.AuthenticatedClientAsync();
        var response = await client.PostJsonAsync("/api/projects", new { name = new string('n', 255), description = new string('d', 2000) });
        response.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task List_returns_only_own_projects_newest_first()
    {
        var alice = await app.AuthenticatedClientAsync();
        var bob = await app.AuthenticatedClientAsync();
        var first = await alice.CreateProjectAsync("first");
        var second = await alice.CreateProjectAsync("second");
        await bob.CreateProjectAsync("bob's");

        var list = JsonNode.Parse(await alice.GetStringAsync("/api/projects"))!.AsArray();

        list.Select(p => p!["id"]!.GetValue<string>()).Should()
            .Equal(second["id"]!.GetValue<string>(), first["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_own_project_returns_it()
    {
        var client = await app.AuthenticatedClientAsync();
        var project = await client.CreateProjectAsync();

        var fetched = await (await client.GetAsync($"/api/projects/{project["id"]}")).ReadObjectAsync();

        fetched.ToJsonString().Should().Be(project.ToJsonString());
    }

    [Fact]
    public async Task Update_partial_keeps_omitted_fields_and_moves_updated_at()
    {
        var client = await app.AuthenticatedClientAsync();
        var created = await (await client.PostJsonAsync("/api/projects", new { name = "old", description = "keep me" })).ReadObjectAsync();

        var response = await client.PutJsonAsync($"/api/projects/{created["id"]}", new { name = "new" });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var updated = await response.ReadObjectAsync();
        updated["name"]!.GetValue<string>().Should().Be("new");
        updated["description"]!.GetValue<string>().Should().Be("keep me");
        updated["sdk_key"]!.GetValue<string>().Should().Be(created["sdk_key"]!.GetValue<string>());
        updated["updated_at"]!.GetValue<DateTime>().Should().BeAfter(created["updated_at"]!.GetValue<DateTime>());

        var described = await (await client.PutJsonAsync($"/api/projects/{created["id"]}", new { description = "changed" })).ReadObjectAsync();
        described["name"]!.GetValue<string>().Should().Be("new");
        described["description"]!.GetValue<string>().Should().Be("changed");
    }

    [Fact]
    public async Task Update_with_nothing_to_update_returns_400()
    {
        var client = await app.AuthenticatedClientAsync();
        var project = await client.CreateProjectAsync();
        var response = await client.PutJsonAsync($"/api/projects/{project["id"]}", new { });
        await response.ShouldBeValidationErrorAsync("body", "at least one of");
    }

    [Fact]
    public async Task Update_with_invalid_name_returns_400()
    {
        var client = await app.AuthenticatedClientAsync();
        var project = await client.CreateProjectAsync();
        var response = await client.PutJsonAsync($"/api/projects/{project["id"]}", new { name = " " });
        await response.ShouldBeValidationErrorAsync("name", "must not be empty");
    }

    [Fact]
    public async Task Delete_returns_204_then_404()
    {
        var client = await app.AuthenticatedClientAsync();
        var project = await client.CreateProjectAsync();

        (await client.DeleteAsync($"/api/projects/{project["id"]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        await (await client.GetAsync($"/api/projects/{project["id"]}")).ShouldBeProblemAsync(404);
        await (await client.DeleteAsync($"/api/projects/{project["id"]}")).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Delete_cascades_to_flags_rules_and_analytics()
    {
        var client = await app.AuthenticatedClientAsync();
        var project = await client.CreateProjectAsync();
        var projectId = Guid.Parse(project["id"]!.GetValue<string>());
        await using var db = new NpgsqlConnection(app.ConnectionString);
        var flag = await (await client.PostJsonAsync($"/api/projects/{projectId}/flags", new { name = "F", key = "f" })).ReadObjectAsync();
        var flagId = Guid.Parse(flag["id"]!.GetValue<string>());
        (await client.PostJsonAsync($"/api/projects/{projectId}/environments/staging/flags/{flagId}/rules",
            new { rule_type = "user_id", rule_value = "u1" })).EnsureSuccessStatusCode();
        var environmentId = await db.ExecuteScalarAsync<Guid>(
            "SELECT id FROM environments WHERE project_id = @projectId AND is_default", new { projectId });
        await db.ExecuteAsync("""
            INSERT INTO flag_evaluation_counts (environment_id, flag_id, minute, reason, variant, count)
            VALUES (@environmentId, @flagId, date_trunc('minute', now()), 'rollout', 'on', 3)
            """, new { flagId, environmentId });
        await db.ExecuteAsync(
            "INSERT INTO evaluation_latest (environment_id, identifier, results) VALUES (@environmentId, 'u1', '{}')",
            new { environmentId });

        (await client.DeleteAsync($"/api/projects/{projectId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var left = await db.ExecuteScalarAsync<long>("""
            SELECT (SELECT count(*) FROM feature_flags WHERE id = @flagId)
                 + (SELECT count(*) FROM environments WHERE project_id = @projectId)
                 + (SELECT count(*) FROM flag_environments WHERE flag_id = @flagId)
                 + (SELECT count(*) FROM targeting_rules WHERE flag_id = @flagId)
                 + (SELECT count(*) FROM flag_evaluation_counts WHERE flag_id = @flagId)
                 + (SELECT count(*) FROM evaluation_latest WHERE environment_id = @environmentId)
            """, new { flagId, projectId, environmentId });
        left.Should().Be(0);
    }

    [Fact]
    public async Task Regenerate_key_returns_a_new_key_and_the_old_one_is_gone()
    {
        var client = await app.AuthenticatedClientAsync();
        var project = await client.CreateProjectAsync();
        var oldKey = project["sdk_key"]!.GetValue<string>();

        var response = await client.PostAsync($"/api/projects/{project["id"]}/regenerate-key", null);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var newKey = (await response.ReadObjectAsync())["sdk_key"]!.GetValue<string>();
        newKey.Should().MatchRegex("^sdk_[A-Za-z0-9]{32}$").And.NotBe(oldKey);
        await using var db = new NpgsqlConnection(app.ConnectionString);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM environments WHERE sdk_key = @oldKey", new { oldKey })).Should().Be(0);
        var production = await (await client.GetAsync($"/api/projects/{project["id"]}/environments/production")).ReadObjectAsync();
        production["sdk_key"]!.GetValue<string>().Should().Be(newKey, "the project's key is its default environment's");
    }

    [Fact]
    public async Task Another_users_project_is_404_on_every_endpoint_and_unchanged()
    {
        var owner = await app.AuthenticatedClientAsync();
        var intruder = await app.AuthenticatedClientAsync();
        var project = await owner.CreateProjectAsync("secret plans");
        var url = $"/api/projects/{project["id"]}";

        await (await intruder.GetAsync(url)).ShouldBeProblemAsync(404);
        await (await intruder.PutJsonAsync(url, new { name = "hijacked" })).ShouldBeProblemAsync(404);
        await (await intruder.PostAsync($"{url}/regenerate-key", null)).ShouldBeProblemAsync(404);
        await (await intruder.DeleteAsync(url)).ShouldBeProblemAsync(404);
        var intruderList = await intruder.GetStringAsync("/api/projects");
        intruderList.Should().NotContain(project["id"]!.GetValue<string>());

        var after = await (await owner.GetAsync(url)).ReadObjectAsync();
        after.ToJsonString().Should().Be(project.ToJsonString());
    }

    [Fact]
    public async Task Unknown_project_id_returns_404_and_non_uuid_returns_400()
    {
        var client = await app.AuthenticatedClientAsync();
        await (await client.GetAsync($"/api/projects/{Guid.NewGuid()}")).ShouldBeProblemAsync(404);
        await (await client.GetAsync("/api/projects/not-a-uuid")).ShouldBeValidationErrorAsync("projectId", "must be a UUID");
    }

    [Fact]
    public async Task Project_endpoints_require_a_token()
    {
        var anonymous = app.CreateClient();
        await (await anonymous.GetAsync("/api/projects")).ShouldBeProblemAsync(401);
        await (await anonymous.PostJsonAsync("/api/projects", new { name = "x" })).ShouldBeProblemAsync(401);
    }

    [Fact]
    public async Task Create_with_wrong_type_returns_400_naming_field()
    {
        var client = await app.AuthenticatedClientAsync();
        var response = await client.PostRawAsync("/api/projects", "{\"name\": [\"x\"]}");
        await response.ShouldBeValidationErrorAsync("name", "must be a string");
    }
}
