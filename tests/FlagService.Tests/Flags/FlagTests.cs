using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using FlagService.Tests.Infrastructure;
using Npgsql;

namespace FlagService.Tests.Flags;

public sealed class FlagTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<(HttpClient Client, string Flags)> ProjectAsync()
    {
        var client = await app.AuthenticatedClientAsync();
        var project = await client.CreateProjectAsync();
        return (client, $"/api/projects/{project["id"]}/flags");
    }

    [Fact]
    public async Task Seed_scenario_works_end_to_end()
    {
        var (client, flags) = await ProjectAsync();

        var checkout = await client.PostJsonAsync(flags, new { name = "New checkout", key = "new_checkout", enabled = true, rollout_percentage = 50 });
        checkout.StatusCode.Should().Be(HttpStatusCode.Created);
        var checkoutFlag = await checkout.ReadObjectAsync();
        checkoutFlag["enabled"]!.GetValue<bool>().Should().BeTrue();
        checkoutFlag["rollout_percentage"]!.GetValue<int>().Should().Be(50);

        var dark = await (await client.PostJsonAsync(flags, new { name = "Dark mode", key = "dark_mode", enabled = false })).ReadObjectAsync();
        dark["enabled"]!.GetValue<bool>().Should().BeFalse();

        var defaults = await (await client.PostJsonAsync(flags, new { name = "Premium", key = "premium_features" })).ReadObjectAsync();
        defaults["enabled"]!.GetValue<bool>().Should().BeFalse();
        defaults["rollout_percentage"]!.GetValue<int>().Should().Be(0);
        defaults["description"].Should().BeNull();

        await (await client.PostJsonAsync(flags, new { name = "Again", key = "new_checkout" })).ShouldBeProblemAsync(409);
        await (await client.PostJsonAsync(flags, new { name = "Caps", key = "Invalid-Key-With-CAPS" })).ShouldBeValidationErrorAsync("key", "must match");

        var checkoutUrl = $"{flags}/{checkoutFlag["id"]}";
        var updated = await (await client.PutJsonAsync(checkoutUrl, new { rollout_percentage = 75 })).ReadObjectAsync();
        updated["rollout_percentage"]!.GetValue<int>().Should().Be(75);
        updated["name"]!.GetValue<string>().Should().Be("New checkout");

        var off = await (await client.PostAsync($"{checkoutUrl}/toggle", null)).ReadObjectAsync();
        off["enabled"]!.GetValue<bool>().Should().BeFalse();
        var on = await (await client.PostAsync($"{checkoutUrl}/toggle", null)).ReadObjectAsync();
        on["enabled"]!.GetValue<bool>().Should().BeTrue();

        await (await client.PutJsonAsync(checkoutUrl, new { rollout_percentage = 150 })).ShouldBeValidationErrorAsync("rollout_percentage", "from 0 to 100");

        var darkUrl = $"{flags}/{dark["id"]}";
        (await client.DeleteAsync(darkUrl)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await client.GetAsync(darkUrl)).ShouldBeProblemAsync(404);

        // A second project of the same user cannot reach the first project's flag.
        var other = await client.CreateProjectAsync("other");
        await (await client.GetAsync($"/api/projects/{other["id"]}/flags/{checkoutFlag["id"]}")).ShouldBeProblemAsync(404);

        var list = JsonNode.Parse(await client.GetStringAsync(flags))!.AsArray();
        list.Select(f => f!["key"]!.GetValue<string>()).Should().Equal("premium_features", "new_checkout");
    }

    [Theory]
    [InlineData("{\"key\":\"k\"}", "name", "is required")]
    [InlineData("{\"name\":\" \",\"key\":\"k\"}", "name", "must not be empty")]
    [InlineData("{\"name\":\"n\"}", "key", "is required")]
    [InlineData("{\"name\":\"n\",\"key\":\"\"}", "key", "must match")]
    [InlineData("{\"name\":\"n\",\"key\":\"1abc\"}", "key", "must match")]
    [InlineData("{\"name\":\"n\",\"key\":\"_abc\"}", "key", "must match")]
    [InlineData("{\"name\":\"n\",\"key\":\"has space\"}", "key", "must match")]
    [InlineData("{\"name\":\"n\",\"key\":\"k\",\"rollout_percentage\":-1}", "rollout_percentage", "from 0 to 100")]
    [InlineData("{\"name\":\"n\",\"key\":\"k\",\"rollout_percentage\":101}", "rollout_percentage", "from 0 to 100")]
    [InlineData("{\"name\":\"n\",\"key\":\"k\",\"rollout_percentage\":50.5}", "rollout_percentage", "must be an integer")]
    [InlineData("{\"name\":\"n\",\"key\":\"k\",\"rollout_percentage\":\"50\"}", "rollout_percentage", "must be an integer")]
    [InlineData("{\"name\":\"n\",\"key\":\"k\",\"enabled\":\"yes\"}", "enabled", "must be true or false")]
    public async Task Create_invalid_flag_returns_400_naming_field(string body, string field, string rule)
    {
        var (client, flags) = await ProjectAsync();
        await (await client.PostRawAsync(flags, body)).ShouldBeValidationErrorAsync(field, rule);
    }

    [Fact]
    public async Task Create_length_limits_are_enforced()
    {
        var (client, flags) = await ProjectAsync();
        await (await client.PostJsonAsync(flags, new { name = new string('n', 256), key = "a" })).ShouldBeValidationErrorAsync("name", "at most 255");
        await (await client.PostJsonAsync(flags, new { name = "n", key = "a" + new string('b', 64) })).ShouldBeValidationErrorAsync("key", "must match");
        await (await client.PostJsonAsync(flags, new { name = "n", key = "a", description = new string('d', 2001) })).ShouldBeValidationErrorAsync("description", "at most 2000");
        (await client.PostJsonAsync(flags, new { name = new string('n', 255), key = "a" + new string('b', 63), description = new string('d', 2000) }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Update_rules_for_key_and_empty_body()
    {
        var (client, flags) = await ProjectAsync();
        var flag = await (await client.PostJsonAsync(flags, new { name = "F", key = "f", description = "d" })).ReadObjectAsync();
        var url = $"{flags}/{flag["id"]}";

        await (await client.PutJsonAsync(url, new { })).ShouldBeValidationErrorAsync("body", "at least one of");
        await (await client.PutJsonAsync(url, new { key = "other", name = "x" })).ShouldBeValidationErrorAsync("key", "cannot be changed");
        var same = await client.PutJsonAsync(url, new { key = "f", enabled = true });
        same.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await same.ReadObjectAsync();
        body["enabled"]!.GetValue<bool>().Should().BeTrue();
        body["description"]!.GetValue<string>().Should().Be("d");
        body["name"]!.GetValue<string>().Should().Be("F", "the rejected update changed nothing");
        body["updated_at"]!.GetValue<DateTime>().Should().BeAfter(flag["updated_at"]!.GetValue<DateTime>());
    }

    [Fact]
    public async Task Concurrent_toggles_are_never_lost()
    {
        var (client, flags) = await ProjectAsync();
        var flag = await (await client.PostJsonAsync(flags, new { name = "F", key = "kill" })).ReadObjectAsync();
        var url = $"{flags}/{flag["id"]}/toggle";

        var responses = await Task.WhenAll(Enumerable.Range(0, 21).Select(_ => client.PostAsync(url, null)));

        responses.Should().AllSatisfy(r => r.StatusCode.Should().Be(HttpStatusCode.OK));
        var final = await (await client.GetAsync($"{flags}/{flag["id"]}")).ReadObjectAsync();
        final["enabled"]!.GetValue<bool>().Should().BeTrue("21 toggles of a disabled flag leave it enabled");
        var seen = await Task.WhenAll(responses.Select(r => r.ReadObjectAsync()));
        seen.Count(f => f["enabled"]!.GetValue<bool>()).Should().Be(11);
    }

    [Fact]
    public async Task Concurrent_creates_of_one_key_give_exactly_one_201()
    {
        var (client, flags) = await ProjectAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            client.PostJsonAsync(flags, new { name = $"F{i}", key = "race" })));

        responses.Count(r => r.StatusCode == HttpStatusCode.Created).Should().Be(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.Conflict).Should().Be(9);
    }

    [Fact]
    public async Task Same_key_in_two_projects_is_allowed()
    {
        var (client, flags) = await ProjectAsync();
        var other = await client.CreateProjectAsync("other");
        (await client.PostJsonAsync(flags, new { name = "F", key = "shared" })).StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostJsonAsync($"/api/projects/{other["id"]}/flags", new { name = "F", key = "shared" })).StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Another_users_flags_are_404_on_every_endpoint()
    {
        var (owner, flags) = await ProjectAsync();
        var flag = await (await owner.PostJsonAsync(flags, new { name = "F", key = "secret" })).ReadObjectAsync();
        var url = $"{flags}/{flag["id"]}";
        var intruder = await app.AuthenticatedClientAsync();

        await (await intruder.GetAsync(flags)).ShouldBeProblemAsync(404);
        await (await intruder.PostJsonAsync(flags, new { name = "F", key = "mine" })).ShouldBeProblemAsync(404);
        await (await intruder.GetAsync(url)).ShouldBeProblemAsync(404);
        await (await intruder.PutJsonAsync(url, new { enabled = true })).ShouldBeProblemAsync(404);
        await (await intruder.PostAsync($"{url}/toggle", null)).ShouldBeProblemAsync(404);
        await (await intruder.DeleteAsync(url)).ShouldBeProblemAsync(404);

        // The intruder's own project cannot be used as a door to the flag either.
        var intruderProject = await intruder.CreateProjectAsync();
        var viaOwnProject = $"/api/projects/{intruderProject["id"]}/flags/{flag["id"]}";
        await (await intruder.GetAsync(viaOwnProject)).ShouldBeProblemAsync(404);
        await (await intruder.PostAsync($"{viaOwnProject}/toggle", null)).ShouldBeProblemAsync(404);
        await (await intruder.DeleteAsync(viaOwnProject)).ShouldBeProblemAsync(404);

        var after = await (await owner.GetAsync(url)).ReadObjectAsync();
        after.ToJsonString().Should().Be(flag.ToJsonString());
    }

    [Fact]
    public async Task Unknown_and_malformed_flag_ids()
    {
        var (client, flags) = await ProjectAsync();
        await (await client.GetAsync($"{flags}/{Guid.NewGuid()}")).ShouldBeProblemAsync(404);
        await (await client.PostAsync($"{flags}/{Guid.NewGuid()}/toggle", null)).ShouldBeProblemAsync(404);
        await (await client.GetAsync($"{flags}/nope")).ShouldBeValidationErrorAsync("flagId", "must be a UUID");
        await (await client.GetAsync($"/api/projects/{Guid.NewGuid()}/flags")).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Delete_flag_removes_its_rules_and_analytics()
    {
        var (client, flags) = await ProjectAsync();
        var flag = await (await client.PostJsonAsync(flags, new { name = "F", key = "gone" })).ReadObjectAsync();
        var flagId = Guid.Parse(flag["id"]!.GetValue<string>());
        await using var db = new NpgsqlConnection(app.ConnectionString);
        (await client.PostJsonAsync($"{flags}/{flagId}/rules", new { rule_type = "user_id", rule_value = "u" })).EnsureSuccessStatusCode();
        var projectId = Guid.Parse(flag["project_id"]!.GetValue<string>());
        var environments = (await db.QueryAsync<Guid>("SELECT id FROM environments WHERE project_id = @projectId", new { projectId })).ToArray();
        foreach (var environmentId in environments)
        {
            await db.ExecuteAsync("""
                INSERT INTO flag_evaluation_counts (environment_id, flag_id, minute, reason, variant, count)
                VALUES (@environmentId, @flagId, date_trunc('minute', now()), 'rollout', 'on', 1)
                """, new { flagId, environmentId });
            await db.ExecuteAsync("""
                INSERT INTO evaluation_latest (environment_id, identifier, results)
                VALUES (@environmentId, 'u', jsonb_build_object(@flagId::text, '{"result":true}'::jsonb, 'other', '{"result":false}'::jsonb))
                """, new { environmentId, flagId = flagId.ToString() });
            await db.ExecuteAsync("""
                INSERT INTO configuration_versions (environment_id, version, ruleset) VALUES (@environmentId, 'v1', '{}');
                INSERT INTO evaluation_contexts (environment_id, identifier, flag_id, version, context, evaluated_at)
                VALUES (@environmentId, 'u', @flagId, 'v1', '{}', now()),
                       (@environmentId, 'u', '00000000-0000-0000-0000-000000000000', 'v1', '{}', now());
                """, new { environmentId, flagId });
        }

        (await client.DeleteAsync($"{flags}/{flagId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await db.ExecuteScalarAsync<long>("""
            SELECT (SELECT count(*) FROM targeting_rules WHERE flag_id = @flagId)
                 + (SELECT count(*) FROM flag_environments WHERE flag_id = @flagId)
                 + (SELECT count(*) FROM flag_evaluation_counts WHERE flag_id = @flagId)
                 + (SELECT count(*) FROM evaluation_contexts WHERE flag_id = @flagId)
            """, new { flagId })).Should().Be(0);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM evaluation_contexts WHERE environment_id = ANY(@environments)", new { environments }))
            .Should().Be(2, "evaluations of every flag stay: they answer for the other flags");
        (await db.QueryAsync<string>("SELECT results::text FROM evaluation_latest WHERE environment_id = ANY(@environments)", new { environments }))
            .Should().HaveCount(2).And.AllBe("""{"other": {"result": false}}""", "the flag leaves every environment's latest answers");
    }
}
