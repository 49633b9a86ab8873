using System.Net;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Environments;

public sealed class EnvironmentTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static string Environments(string projectId) => $"/api/projects/{projectId}/environments";

    private async Task<(HttpClient Client, string ProjectId)> ProjectAsync()
    {
        var client = await app.AuthenticatedClientAsync();
        var project = await client.CreateProjectAsync();
        return (client, project["id"]!.GetValue<string>());
    }

    private static async Task<JsonObject> CreateFlagAsync(HttpClient client, string url, object body)
    {
        var response = await client.PostJsonAsync(url, body);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.ReadObjectAsync();
    }

    [Fact]
    public async Task New_project_has_production_as_default_and_staging_with_the_projects_key()
    {
        var client = await app.AuthenticatedClientAsync();
        var project = await client.CreateProjectAsync();

        var environments = (await (await client.GetAsync(Environments(project["id"]!.GetValue<string>()))).ReadAsync<JsonArray>())
            .Select(e => e!.AsObject()).ToArray();

        environments.Select(e => e["key"]!.GetValue<string>()).Should().Equal("production", "staging");
        environments.Select(e => e["is_default"]!.GetValue<bool>()).Should().Equal(true, false);
        environments[0]["sdk_key"]!.GetValue<string>().Should().Be(project["sdk_key"]!.GetValue<string>());
        environments.Should().AllSatisfy(e =>
        {
            e["sdk_key"]!.GetValue<string>().Should().MatchRegex("^sdk_[A-Za-z0-9]{32}$");
            e["server_key"]!.GetValue<string>().Should().MatchRegex("^srv_[A-Za-z0-9]{32}$");
            e["project_id"]!.GetValue<string>().Should().Be(project["id"]!.GetValue<string>());
            e.Select(p => p.Key).Should().Equal("id", "project_id", "key", "name", "description", "sdk_key", "server_key",
                "is_default", "created_at", "updated_at");
        });
        environments[1]["sdk_key"]!.GetValue<string>().Should().NotBe(environments[0]["sdk_key"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_get_update_and_delete_an_environment_by_key_and_by_id()
    {
        var (client, projectId) = await ProjectAsync();

        var created = await client.PostJsonAsync(Environments(projectId), new { key = "qa", name = " QA ", description = "Testers" });
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        created.Headers.Location!.ToString().Should().Be($"{Environments(projectId)}/qa");
        var qa = await created.ReadObjectAsync();
        qa["name"]!.GetValue<string>().Should().Be("QA");
        qa["is_default"]!.GetValue<bool>().Should().BeFalse();
        var id = qa["id"]!.GetValue<string>();

        (await (await client.GetAsync($"{Environments(projectId)}/qa")).ReadObjectAsync())["id"]!.GetValue<string>().Should().Be(id);
        (await (await client.GetAsync($"{Environments(projectId)}/{id}")).ReadObjectAsync())["key"]!.GetValue<string>().Should().Be("qa");

        var renamed = await (await client.PutJsonAsync($"{Environments(projectId)}/{id}", new { name = "Quality", description = "" })).ReadObjectAsync();
        renamed["name"]!.GetValue<string>().Should().Be("Quality");
        renamed["description"].Should().BeNull("an empty description clears it");
        renamed["sdk_key"]!.GetValue<string>().Should().Be(qa["sdk_key"]!.GetValue<string>());

        var list = await (await client.GetAsync(Environments(projectId))).ReadAsync<JsonArray>();
        list.Select(e => e!["key"]!.GetValue<string>()).Should().Equal("production", "staging", "qa");

        (await client.DeleteAsync($"{Environments(projectId)}/qa")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await client.GetAsync($"{Environments(projectId)}/{id}")).ShouldBeProblemAsync(404);
        await (await client.DeleteAsync($"{Environments(projectId)}/qa")).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Making_another_environment_the_default_moves_the_projects_key_and_the_v1_routes()
    {
        var (client, projectId) = await ProjectAsync();
        var flag = await CreateFlagAsync(client, $"/api/projects/{projectId}/flags", new { name = "F", key = "f", enabled = true });

        var staging = await (await client.PutJsonAsync($"{Environments(projectId)}/staging", new { is_default = true })).ReadObjectAsync();

        staging["is_default"]!.GetValue<bool>().Should().BeTrue();
        var list = await (await client.GetAsync(Environments(projectId))).ReadAsync<JsonArray>();
        list.Select(e => (e!["key"]!.GetValue<string>(), e["is_default"]!.GetValue<bool>()))
            .Should().Equal(("staging", true), ("production", false));
        var project = await (await client.GetAsync($"/api/projects/{projectId}")).ReadObjectAsync();
        project["sdk_key"]!.GetValue<string>().Should().Be(staging["sdk_key"]!.GetValue<string>());
        var v1 = await (await client.GetAsync($"/api/projects/{projectId}/flags/{flag["id"]}")).ReadObjectAsync();
        v1["environment"]!.GetValue<string>().Should().Be("staging");
        v1["enabled"]!.GetValue<bool>().Should().BeFalse("staging's state: the flag was created on in production only");

        await (await client.DeleteAsync($"{Environments(projectId)}/staging")).ShouldBeProblemAsync(409);
        await (await client.PutJsonAsync($"{Environments(projectId)}/staging", new { is_default = false }))
            .ShouldBeValidationErrorAsync("is_default", "only be set to true");
        (await client.DeleteAsync($"{Environments(projectId)}/production")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await (await client.GetAsync(Environments(projectId))).ReadAsync<JsonArray>()).Should().HaveCount(1);
    }

    [Fact]
    public async Task Invalid_environments_are_refused_with_the_field_named()
    {
        var (client, projectId) = await ProjectAsync();
        var url = Environments(projectId);

        await (await client.PostJsonAsync(url, new { key = "staging", name = "Again" })).ShouldBeProblemAsync(409);
        await (await client.PostJsonAsync(url, new { key = "Prod", name = "P" })).ShouldBeValidationErrorAsync("key", "must match");
        await (await client.PostJsonAsync(url, new { key = "abcdef01-2345-6789-abcd-ef0123456789", name = "U" }))
            .ShouldBeValidationErrorAsync("key", "UUID");
        await (await client.PostJsonAsync(url, new { key = "abcdef0123456789abcdef0123456789", name = "U" }))
            .ShouldBeValidationErrorAsync("key", "UUID");
        await (await client.PostJsonAsync(url, new { name = "No key" })).ShouldBeValidationErrorAsync("key", "required");
        await (await client.PostJsonAsync(url, new { key = "dev" })).ShouldBeValidationErrorAsync("name", "required");
        await (await client.PostJsonAsync(url, new { key = "dev", name = new string('n', 256) })).ShouldBeValidationErrorAsync("name", "at most 255");
        await (await client.PostJsonAsync(url, new { key = "dev", name = "Dev", copy_from = "nope" })).ShouldBeValidationErrorAsync("copy_from", "no environment");
        await (await client.PostRawAsync(url, """{"key": 5, "name": "Dev"}""")).ShouldBeValidationErrorAsync("key", "must be a string");
        await (await client.PostRawAsync(url, "{")).ShouldBeValidationErrorAsync("body", "valid JSON");
        await (await client.PutJsonAsync($"{url}/staging", new { })).ShouldBeValidationErrorAsync("body", "at least one of");
        await (await client.GetAsync($"{url}/nope")).ShouldBeProblemAsync(404);
        await (await client.GetAsync($"{url}/{Guid.NewGuid()}")).ShouldBeProblemAsync(404);
        await (await client.PostAsync($"{url}/nope/regenerate-keys", null)).ShouldBeProblemAsync(404);
        await (await client.GetAsync("/api/projects/not-a-uuid/environments")).ShouldBeValidationErrorAsync("projectId", "must be a UUID");
        await (await client.GetAsync($"/api/projects/{Guid.NewGuid()}/environments")).ShouldBeProblemAsync(404);

        var keys = await (await client.GetAsync(url)).ReadAsync<JsonArray>();
        keys.Should().HaveCount(2, "nothing refused was written");
    }

    [Fact]
    public async Task Another_users_environments_are_404_everywhere_and_unchanged()
    {
        var (owner, projectId) = await ProjectAsync();
        var flag = await CreateFlagAsync(owner, $"/api/projects/{projectId}/flags", new { name = "F", key = "f" });
        var stranger = await app.AuthenticatedClientAsync();
        var url = Environments(projectId);
        var flagUrl = $"{url}/staging/flags/{flag["id"]}";

        await (await stranger.GetAsync(url)).ShouldBeProblemAsync(404);
        await (await stranger.GetAsync($"{url}/staging")).ShouldBeProblemAsync(404);
        await (await stranger.PostJsonAsync(url, new { key = "mine", name = "Mine" })).ShouldBeProblemAsync(404);
        await (await stranger.PutJsonAsync($"{url}/staging", new { name = "Mine" })).ShouldBeProblemAsync(404);
        await (await stranger.PutJsonAsync($"{url}/staging", new { is_default = true })).ShouldBeProblemAsync(404);
        await (await stranger.DeleteAsync($"{url}/staging")).ShouldBeProblemAsync(404);
        await (await stranger.PostAsync($"{url}/staging/regenerate-keys", null)).ShouldBeProblemAsync(404);
        await (await stranger.PostJsonAsync($"{url}/staging/copy-from/production", new { })).ShouldBeProblemAsync(404);
        await (await stranger.GetAsync($"{url}/staging/flags")).ShouldBeProblemAsync(404);
        await (await stranger.PostJsonAsync($"{url}/staging/flags", new { name = "X", key = "x" })).ShouldBeProblemAsync(404);
        await (await stranger.GetAsync(flagUrl)).ShouldBeProblemAsync(404);
        await (await stranger.PutJsonAsync(flagUrl, new { enabled = true })).ShouldBeProblemAsync(404);
        await (await stranger.PostAsync($"{flagUrl}/toggle", null)).ShouldBeProblemAsync(404);
        await (await stranger.DeleteAsync(flagUrl)).ShouldBeProblemAsync(404);
        await (await stranger.PostJsonAsync($"{flagUrl}/rules", new { rule_type = "user_id", rule_value = "u" })).ShouldBeProblemAsync(404);
        await (await stranger.GetAsync($"{flagUrl}/rules")).ShouldBeProblemAsync(404);

        var environments = await (await owner.GetAsync(url)).ReadAsync<JsonArray>();
        environments.Select(e => e!["name"]!.GetValue<string>()).Should().Equal("Production", "Staging");
        var staging = await (await owner.GetAsync(flagUrl)).ReadObjectAsync();
        staging["enabled"]!.GetValue<bool>().Should().BeFalse();
        (await (await owner.GetAsync($"{flagUrl}/rules")).ReadAsync<JsonArray>()).Should().BeEmpty();
    }

    [Fact]
    public async Task Flag_state_and_rules_are_per_environment_and_the_definition_is_shared()
    {
        var (client, projectId) = await ProjectAsync();
        var stagingFlags = $"{Environments(projectId)}/staging/flags";

        var created = await CreateFlagAsync(client, stagingFlags, new { name = "Checkout", key = "checkout", enabled = true, rollout_percentage = 40 });
        created["environment"]!.GetValue<string>().Should().Be("staging");
        created["enabled"]!.GetValue<bool>().Should().BeTrue();
        created["environments"]!.ToJsonString().Should().Be(
            """{"production":{"enabled":false,"rollout_percentage":0},"staging":{"enabled":true,"rollout_percentage":40}}""");
        var id = created["id"]!.GetValue<string>();

        // v1 routes mean production here.
        var v1 = await (await client.GetAsync($"/api/projects/{projectId}/flags/{id}")).ReadObjectAsync();
        v1["enabled"]!.GetValue<bool>().Should().BeFalse();
        v1["rollout_percentage"]!.GetValue<int>().Should().Be(0);
        v1["environment"]!.GetValue<string>().Should().Be("production");

        // A toggle in staging changes nothing in production; a rename shows everywhere.
        (await client.PostAsync($"{stagingFlags}/{id}/toggle", null)).EnsureSuccessStatusCode();
        (await client.PutJsonAsync($"{stagingFlags}/{id}", new { name = "New checkout" })).EnsureSuccessStatusCode();
        var production = await (await client.GetAsync($"{Environments(projectId)}/production/flags/{id}")).ReadObjectAsync();
        production["name"]!.GetValue<string>().Should().Be("New checkout");
        production["enabled"]!.GetValue<bool>().Should().BeFalse();
        production["environments"]!["staging"]!["enabled"]!.GetValue<bool>().Should().BeFalse("staging was toggled off");

        var rule = await client.PostJsonAsync($"{stagingFlags}/{id}/rules", new { rule_type = "user_id", rule_value = "u1" });
        rule.StatusCode.Should().Be(HttpStatusCode.Created);
        var ruleBody = await rule.ReadObjectAsync();
        ruleBody["environment"]!.GetValue<string>().Should().Be("staging");
        var ruleId = ruleBody["id"]!.GetValue<string>();
        (await (await client.GetAsync($"/api/projects/{projectId}/flags/{id}/rules")).ReadAsync<JsonArray>()).Should().BeEmpty();
        await (await client.GetAsync($"/api/projects/{projectId}/flags/{id}/rules/{ruleId}")).ShouldBeProblemAsync(404);
        await (await client.DeleteAsync($"/api/projects/{projectId}/flags/{id}/rules/{ruleId}")).ShouldBeProblemAsync(404);
        (await client.GetAsync($"{stagingFlags}/{id}/rules/{ruleId}")).StatusCode.Should().Be(HttpStatusCode.OK);

        // Same validation on both kinds of route.
        await (await client.PutJsonAsync($"{stagingFlags}/{id}", new { rollout_percentage = 101 })).ShouldBeValidationErrorAsync("rollout_percentage", "0 to 100");
        await (await client.PutJsonAsync($"{stagingFlags}/{id}", new { key = "other", enabled = true })).ShouldBeValidationErrorAsync("key", "cannot be changed");
        await (await client.PostJsonAsync(stagingFlags, new { name = "Dup", key = "checkout" })).ShouldBeProblemAsync(409);
        await (await client.GetAsync($"{stagingFlags}/not-a-uuid")).ShouldBeValidationErrorAsync("flagId", "must be a UUID");
        await (await client.GetAsync($"{Environments(projectId)}/nope/flags/{id}")).ShouldBeProblemAsync(404);
        await (await client.GetAsync($"{Environments(projectId)}/nope/flags")).ShouldBeProblemAsync(404);

        // Deleting through one environment removes the flag from all.
        (await client.DeleteAsync($"{stagingFlags}/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await client.GetAsync($"/api/projects/{projectId}/flags/{id}")).ShouldBeProblemAsync(404);
        (await (await client.GetAsync(stagingFlags)).ReadAsync<JsonArray>()).Should().BeEmpty();
    }

    [Fact]
    public async Task New_environment_starts_disabled_or_as_a_copy_of_another()
    {
        var (client, projectId) = await ProjectAsync();
        var flag = await CreateFlagAsync(client, $"/api/projects/{projectId}/flags", new { name = "F", key = "f", enabled = true, rollout_percentage = 25 });
        var id = flag["id"]!.GetValue<string>();
        (await client.PostJsonAsync($"/api/projects/{projectId}/flags/{id}/rules", new
        {
            rule_type = "attribute_match", priority = 5, rollout_percentage = 30,
            conditions = new[] { new { attribute = "plan", @operator = "in", values = new[] { "pro" } } },
        })).EnsureSuccessStatusCode();
        (await client.PostJsonAsync($"/api/projects/{projectId}/flags/{id}/rules", new { rule_type = "email_domain", rule_value = "@example.com" }))
            .EnsureSuccessStatusCode();

        (await client.PostJsonAsync(Environments(projectId), new { key = "empty", name = "Empty" })).EnsureSuccessStatusCode();
        (await client.PostJsonAsync(Environments(projectId), new { key = "copy", name = "Copy", copy_from = "production" })).EnsureSuccessStatusCode();

        var empty = await (await client.GetAsync($"{Environments(projectId)}/empty/flags/{id}")).ReadObjectAsync();
        (empty["enabled"]!.GetValue<bool>(), empty["rollout_percentage"]!.GetValue<int>()).Should().Be((false, 0));
        (await (await client.GetAsync($"{Environments(projectId)}/empty/flags/{id}/rules")).ReadAsync<JsonArray>()).Should().BeEmpty();

        var copy = await (await client.GetAsync($"{Environments(projectId)}/copy/flags/{id}")).ReadObjectAsync();
        (copy["enabled"]!.GetValue<bool>(), copy["rollout_percentage"]!.GetValue<int>()).Should().Be((true, 25));
        var source = await (await client.GetAsync($"/api/projects/{projectId}/flags/{id}/rules")).ReadAsync<JsonArray>();
        var copied = await (await client.GetAsync($"{Environments(projectId)}/copy/flags/{id}/rules")).ReadAsync<JsonArray>();
        copied.Select(Content).Should().Equal(source.Select(Content));
        copied.Select(r => r!["id"]!.GetValue<string>()).Should().NotIntersectWith(source.Select(r => r!["id"]!.GetValue<string>()));

        // A flag created afterwards exists in every environment, including the new ones.
        var later = await CreateFlagAsync(client, $"/api/projects/{projectId}/flags", new { name = "G", key = "g" });
        later["environments"]!.AsObject().Select(e => e.Key).Should().Equal("production", "staging", "empty", "copy");
    }

    private static string Content(JsonNode? rule) =>
        $"{rule!["rule_type"]}|{rule["rule_value"]}|{rule["conditions"]?.ToJsonString()}|{rule["priority"]}|{rule["rollout_percentage"]}|{rule["enabled"]}";

    [Fact]
    public async Task Copy_from_promotes_all_flags_or_a_list_and_replaces_the_targets_rules()
    {
        var (client, projectId) = await ProjectAsync();
        var staging = $"{Environments(projectId)}/staging/flags";
        var a = (await CreateFlagAsync(client, staging, new { name = "A", key = "a", enabled = true, rollout_percentage = 60 }))["id"]!.GetValue<string>();
        var b = (await CreateFlagAsync(client, staging, new { name = "B", key = "b", enabled = true }))["id"]!.GetValue<string>();
        (await client.PostJsonAsync($"{staging}/{a}/rules", new { rule_type = "user_id", rule_value = "tester" })).EnsureSuccessStatusCode();
        // Production has a rule of its own on `a` that the promotion replaces.
        (await client.PostJsonAsync($"/api/projects/{projectId}/flags/{a}/rules", new { rule_type = "user_id", rule_value = "old" })).EnsureSuccessStatusCode();

        var promoted = await client.PostJsonAsync($"{Environments(projectId)}/production/copy-from/staging", new { flag_keys = new[] { "a" } });
        promoted.StatusCode.Should().Be(HttpStatusCode.OK);
        (await promoted.ReadObjectAsync())["copied"]!.AsArray().Select(k => k!.GetValue<string>()).Should().Equal("a");

        var productionA = await (await client.GetAsync($"/api/projects/{projectId}/flags/{a}")).ReadObjectAsync();
        (productionA["enabled"]!.GetValue<bool>(), productionA["rollout_percentage"]!.GetValue<int>()).Should().Be((true, 60));
        (await (await client.GetAsync($"/api/projects/{projectId}/flags/{a}/rules")).ReadAsync<JsonArray>())
            .Select(r => r!["rule_value"]!.GetValue<string>()).Should().Equal("tester");
        (await (await client.GetAsync($"/api/projects/{projectId}/flags/{b}")).ReadObjectAsync())["enabled"]!.GetValue<bool>()
            .Should().BeFalse("b was not in the list");

        var all = await (await client.PostAsync($"{Environments(projectId)}/production/copy-from/staging", null)).ReadObjectAsync();
        all["copied"]!.AsArray().Select(k => k!.GetValue<string>()).Should().Equal("a", "b");
        (await (await client.GetAsync($"/api/projects/{projectId}/flags/{b}")).ReadObjectAsync())["enabled"]!.GetValue<bool>().Should().BeTrue();

        await (await client.PostJsonAsync($"{Environments(projectId)}/production/copy-from/staging", new { flag_keys = new[] { "a", "nope" } }))
            .ShouldBeValidationErrorAsync("flag_keys", "nope");
        await (await client.PostJsonAsync($"{Environments(projectId)}/production/copy-from/staging", new { flag_keys = Array.Empty<string>() }))
            .ShouldBeValidationErrorAsync("flag_keys", "must not be empty");
        await (await client.PostJsonAsync($"{Environments(projectId)}/production/copy-from/production", new { }))
            .ShouldBeValidationErrorAsync("source", "differ");
        await (await client.PostJsonAsync($"{Environments(projectId)}/production/copy-from/nope", new { })).ShouldBeProblemAsync(404);
        await (await client.PostJsonAsync($"{Environments(projectId)}/nope/copy-from/staging", new { })).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Regenerate_keys_gives_new_sdk_and_server_keys()
    {
        var (client, projectId) = await ProjectAsync();
        var before = await (await client.GetAsync($"{Environments(projectId)}/staging")).ReadObjectAsync();

        var after = await (await client.PostAsync($"{Environments(projectId)}/staging/regenerate-keys", null)).ReadObjectAsync();

        after["sdk_key"]!.GetValue<string>().Should().MatchRegex("^sdk_[A-Za-z0-9]{32}$").And.NotBe(before["sdk_key"]!.GetValue<string>());
        after["server_key"]!.GetValue<string>().Should().MatchRegex("^srv_[A-Za-z0-9]{32}$").And.NotBe(before["server_key"]!.GetValue<string>());
        var project = await (await client.GetAsync($"/api/projects/{projectId}")).ReadObjectAsync();
        project["sdk_key"]!.GetValue<string>().Should().NotBe(after["sdk_key"]!.GetValue<string>(), "staging is not the default");
    }

    [Fact]
    public async Task Concurrent_flag_and_environment_creation_leave_every_flag_with_a_state_everywhere()
    {
        var (client, projectId) = await ProjectAsync();

        var flags = Enumerable.Range(0, 8).Select(i => client.PostJsonAsync($"/api/projects/{projectId}/flags", new { name = $"F{i}", key = $"f{i}" }));
        var environments = Enumerable.Range(0, 4).Select(i => client.PostJsonAsync(Environments(projectId), new { key = $"e{i}", name = $"E{i}" }));
        var responses = await Task.WhenAll(flags.Concat(environments));

        responses.Should().AllSatisfy(r => r.StatusCode.Should().Be(HttpStatusCode.Created));
        foreach (var env in new[] { "production", "staging", "e0", "e1", "e2", "e3" })
        {
            (await (await client.GetAsync($"{Environments(projectId)}/{env}/flags")).ReadAsync<JsonArray>()).Should().HaveCount(8, env);
        }
    }
}
