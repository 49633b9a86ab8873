using System.Text.Json.Nodes;
using Dapper;
using FlagService.Tests.Infrastructure;
using Npgsql;

namespace FlagService.Tests.Audit;

public sealed class AuditTests(AppFixture app) : IClassFixture<AppFixture>
{
    // Every write route of the service, as the OpenAPI document names it, with a call that succeeds.
    // A route added later without a line here fails the walk below.
    private static readonly (string Method, string Template, string Url, string? Body)[] Writes =
    [
        ("POST", "/api/projects", "/api/projects", """{"name":"Another"}"""),
        ("PUT", "/api/projects/{projectId}", "/api/projects/{p}", """{"name":"Renamed"}"""),
        ("DELETE", "/api/projects/{projectId}", "/api/projects/{p}", null),
        ("POST", "/api/projects/{projectId}/regenerate-key", "/api/projects/{p}/regenerate-key", null),
        ("POST", "/api/projects/{projectId}/members", "/api/projects/{p}/members", """{"email":"invitee@example.com","role":"viewer"}"""),
        ("PUT", "/api/projects/{projectId}/members/{userId}", "/api/projects/{p}/members/{u}", """{"role":"viewer"}"""),
        ("DELETE", "/api/projects/{projectId}/members/{userId}", "/api/projects/{p}/members/{u}", null),
        ("POST", "/api/projects/{projectId}/environments", "/api/projects/{p}/environments", """{"key":"qa","name":"QA"}"""),
        ("PUT", "/api/projects/{projectId}/environments/{env}", "/api/projects/{p}/environments/staging", """{"name":"Stage"}"""),
        ("DELETE", "/api/projects/{projectId}/environments/{env}", "/api/projects/{p}/environments/staging", null),
        ("POST", "/api/projects/{projectId}/environments/{env}/regenerate-keys", "/api/projects/{p}/environments/staging/regenerate-keys", null),
        ("POST", "/api/projects/{projectId}/environments/{env}/copy-from/{source}", "/api/projects/{p}/environments/staging/copy-from/production", "{}"),
        ("POST", "/api/projects/{projectId}/flags", "/api/projects/{p}/flags", """{"name":"B","key":"b"}"""),
        ("PUT", "/api/projects/{projectId}/flags/{flagId}", "/api/projects/{p}/flags/{f}", """{"enabled":true}"""),
        ("DELETE", "/api/projects/{projectId}/flags/{flagId}", "/api/projects/{p}/flags/{f}", null),
        ("POST", "/api/projects/{projectId}/flags/{flagId}/toggle", "/api/projects/{p}/flags/{f}/toggle", null),
        ("POST", "/api/projects/{projectId}/environments/{env}/flags", "/api/projects/{p}/environments/staging/flags", """{"name":"C","key":"c"}"""),
        ("PUT", "/api/projects/{projectId}/environments/{env}/flags/{flagId}", "/api/projects/{p}/environments/staging/flags/{f}", """{"rollout_percentage":10}"""),
        ("DELETE", "/api/projects/{projectId}/environments/{env}/flags/{flagId}", "/api/projects/{p}/environments/staging/flags/{f}", null),
        ("POST", "/api/projects/{projectId}/environments/{env}/flags/{flagId}/toggle", "/api/projects/{p}/environments/staging/flags/{f}/toggle", null),
        ("POST", "/api/projects/{projectId}/flags/{flagId}/rules", "/api/projects/{p}/flags/{f}/rules", """{"rule_type":"user_id","rule_value":"u1"}"""),
        ("PUT", "/api/projects/{projectId}/flags/{flagId}/rules/{ruleId}", "/api/projects/{p}/flags/{f}/rules/{r}", """{"priority":5}"""),
        ("DELETE", "/api/projects/{projectId}/flags/{flagId}/rules/{ruleId}", "/api/projects/{p}/flags/{f}/rules/{r}", null),
        ("POST", "/api/projects/{projectId}/environments/{env}/flags/{flagId}/rules", "/api/projects/{p}/environments/staging/flags/{f}/rules", """{"rule_type":"user_id","rule_value":"u1"}"""),
        ("PUT", "/api/projects/{projectId}/environments/{env}/flags/{flagId}/rules/{ruleId}", "/api/projects/{p}/environments/production/flags/{f}/rules/{r}", """{"priority":5}"""),
        ("DELETE", "/api/projects/{projectId}/environments/{env}/flags/{flagId}/rules/{ruleId}", "/api/projects/{p}/environments/production/flags/{f}/rules/{r}", null),
        ("POST", "/api/projects/{projectId}/segments", "/api/projects/{p}/segments", """{"key":"vip2","name":"VIP 2"}"""),
        ("PUT", "/api/projects/{projectId}/segments/{segmentId}", "/api/projects/{p}/segments/{s}", """{"name":"Very important"}"""),
        ("DELETE", "/api/projects/{projectId}/segments/{segmentId}", "/api/projects/{p}/segments/{s}", null),
        ("POST", "/api/projects/{projectId}/segments/{segmentId}/{list}", "/api/projects/{p}/segments/{s}/included", """{"add":["u1"]}"""),
        ("POST", "/api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules", "/api/projects/{p}/environments/production/flags/{f}/schedules", $$$"""{"at":"{{{TeamScenario.Later}}}","change":{"enabled":true}}"""),
        ("DELETE", "/api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules/{scheduleId}", "/api/projects/{p}/environments/production/flags/{f}/schedules/{c}", null),
        ("POST", "/api/tokens", "/api/tokens", """{"name":"ci"}"""),
        ("DELETE", "/api/tokens/{tokenId}", "/api/tokens/{t}", null),
    ];

    [Fact]
    public async Task Every_write_route_of_the_openapi_document_records_an_audit_entry()
    {
        var anonymous = app.CreateClient();
        var document = JsonNode.Parse(await anonymous.GetStringAsync("/openapi/v1.json"))!;
        var routes = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(op => (Method: op.Key.ToUpperInvariant(), Template: path.Key)))
            .Where(r => r.Method is "POST" or "PUT" or "DELETE" or "PATCH" && !r.Template.StartsWith("/auth/", StringComparison.Ordinal)
                        && !r.Template.StartsWith("/sdk/", StringComparison.Ordinal) && !r.Template.StartsWith("/ofrep/", StringComparison.Ordinal)
                        // Needs an e-mailed token; Members/InvitationTests checks its audit entry.
                        && r.Template != "/api/invitations/accept")
            .ToArray();
        routes.Should().NotBeEmpty();
        routes.Select(r => $"{r.Method} {r.Template}").Should().BeEquivalentTo(Writes.Select(w => $"{w.Method} {w.Template}"),
            "every management write route must be walked here");

        await using var db = new NpgsqlConnection(app.ConnectionString);
        foreach (var write in Writes)
        {
            var team = await TeamScenario.CreateAsync(app);
            var ownerId = (await (await team.Owner.GetAsync("/api/me")).ReadObjectAsync())["id"]!.GetValue<string>();
            var token = await (await team.Owner.PostJsonAsync("/api/tokens", new { name = "to revoke" })).ReadObjectAsync();
            team.Ids["{t}"] = token["id"]!.GetValue<string>();
            var last = await db.ExecuteScalarAsync<long>("SELECT COALESCE(max(id), 0) FROM audit_log");

            var response = await TeamScenario.SendAsync(team.Owner, write.Method, team.Expand(write.Url), write.Body);

            ((int)response.StatusCode).Should().BeInRange(200, 299, $"{write.Method} {write.Url}: {await response.Content.ReadAsStringAsync()}");
            var entries = (await db.QueryAsync<(string ActorType, Guid? ActorId, string Action)>(
                "SELECT actor_type, actor_id, action FROM audit_log WHERE id > @Last", new { Last = last })).ToArray();
            entries.Should().ContainSingle($"{write.Method} {write.Template} writes one entry");
            entries[0].ActorType.Should().Be("user");
            entries[0].ActorId.Should().Be(Guid.Parse(ownerId));
        }

        // No secret ever reached the log.
        var all = string.Join("\n", await db.QueryAsync<string>("SELECT concat(before::text, after::text, resource_key) FROM audit_log"));
        // (A token's prefix, its first 8 characters, is shown by design; the secret is 44.)
        all.Should().NotMatchRegex("sdk_[A-Za-z0-9]{32}").And.NotMatchRegex("srv_[A-Za-z0-9]{32}")
            .And.NotMatchRegex("fst_[A-Za-z0-9]{40}").And.NotContain("$argon2");
    }

    [Fact]
    public async Task Audit_entries_are_listed_newest_first_with_filters_and_a_cursor()
    {
        var team = await TeamScenario.CreateAsync(app);
        var flags = team.Expand("/api/projects/{p}/flags/{f}");
        (await team.Editor.PostAsync($"{flags}/toggle", null)).EnsureSuccessStatusCode();
        (await team.Editor.PostAsync($"{flags}/toggle", null)).EnsureSuccessStatusCode();
        (await team.Owner.PutJsonAsync(team.Expand("/api/projects/{p}/environments/staging/flags/{f}"), new { rollout_percentage = 30 }))
            .EnsureSuccessStatusCode();
        var audit = team.Expand("/api/projects/{p}/audit");

        var page = await (await team.Viewer.GetAsync($"{audit}?resource_type=flag&resource_id={team.Ids["{f}"]}&limit=2")).ReadObjectAsync();

        var items = page["items"]!.AsArray();
        items.Select(i => i!["action"]!.GetValue<string>()).Should().Equal("flag.updated", "flag.toggled");
        items[0]!["environment"]!.GetValue<string>().Should().Be("staging");
        items[0]!["before"]!["rollout_percentage"]!.GetValue<int>().Should().Be(0);
        items[0]!["after"]!["rollout_percentage"]!.GetValue<int>().Should().Be(30);
        items[1]!["actor"]!["type"]!.GetValue<string>().Should().Be("user");
        items[1]!["before"]!["enabled"]!.GetValue<bool>().Should().BeTrue();
        items[1]!["after"]!["enabled"]!.GetValue<bool>().Should().BeFalse();
        var next = page["next_cursor"]!.GetValue<string>();

        var rest = await (await team.Viewer.GetAsync($"{audit}?resource_type=flag&resource_id={team.Ids["{f}"]}&limit=2&cursor={next}")).ReadObjectAsync();
        rest["items"]!.AsArray().Select(i => i!["action"]!.GetValue<string>()).Should().Equal("flag.toggled", "flag.created");
        rest["next_cursor"].Should().BeNull();

        var byEnvironment = await (await team.Viewer.GetAsync($"{audit}?environment=staging")).ReadObjectAsync();
        byEnvironment["items"]!.AsArray().Should().ContainSingle();
        var editorEmail = (await (await team.Editor.GetAsync("/api/me")).ReadObjectAsync())["email"]!.GetValue<string>();
        var byActor = await (await team.Viewer.GetAsync($"{audit}?actor={editorEmail}")).ReadObjectAsync();
        byActor["items"]!.AsArray().Should().HaveCount(2);
        var future = await (await team.Viewer.GetAsync($"{audit}?from={DateTime.UtcNow.AddHours(1):O}")).ReadObjectAsync();
        future["items"]!.AsArray().Should().BeEmpty();
        await (await team.Viewer.GetAsync($"{audit}?limit=501")).ShouldBeValidationErrorAsync("limit", "1 to 500");
        await (await team.Stranger.GetAsync(audit)).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task List_filtered_by_a_deleted_environment_returns_its_entries()
    {
        var team = await TeamScenario.CreateAsync(app);
        var environments = team.Expand("/api/projects/{p}/environments");
        (await team.Owner.PostJsonAsync(environments, new { key = "qa", name = "QA" })).StatusCode.Should().Be(System.Net.HttpStatusCode.Created);
        (await team.Owner.DeleteAsync($"{environments}/qa")).StatusCode.Should().Be(System.Net.HttpStatusCode.NoContent);

        // The entries outlive the environment: its name filters them, it does not name the request's environment.
        var response = await team.Viewer.GetAsync(team.Expand("/api/projects/{p}/audit?environment=qa"));

        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var items = (await response.ReadObjectAsync())["items"]!.AsArray();
        items.Select(i => i!["action"]!.GetValue<string>()).Should().Equal("environment.deleted", "environment.created");
    }

    [Fact]
    public async Task Token_writes_are_recorded_with_the_token_as_actor()
    {
        var team = await TeamScenario.CreateAsync(app);
        var created = await (await team.Owner.PostJsonAsync("/api/tokens", new { name = "ci", role = "editor" })).ReadObjectAsync();
        var ci = app.CreateClient();
        ci.DefaultRequestHeaders.Authorization = new("Bearer", created["token"]!.GetValue<string>());

        (await ci.PostAsync(team.Expand("/api/projects/{p}/flags/{f}/toggle"), null)).EnsureSuccessStatusCode();

        var page = await (await team.Owner.GetAsync(team.Expand("/api/projects/{p}/audit?limit=1"))).ReadObjectAsync();
        var actor = page["items"]![0]!["actor"]!;
        actor["type"]!.GetValue<string>().Should().Be("token");
        actor["id"]!.GetValue<string>().Should().Be(created["id"]!.GetValue<string>());
        actor["email"]!.GetValue<string>().Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task Applied_schedule_is_recorded_with_the_schedule_as_actor_and_its_authors_email()
    {
        var team = await TeamScenario.CreateAsync(app);
        var schedules = team.Expand("/api/projects/{p}/environments/production/flags/{f}/schedules");
        var schedule = await (await team.Editor.PostJsonAsync(schedules,
            new { at = DateTimeOffset.UtcNow.AddSeconds(1).ToString("O"), change = new { enabled = true } })).ReadObjectAsync();
        var editorEmail = (await (await team.Editor.GetAsync("/api/me")).ReadObjectAsync())["email"]!.GetValue<string>();

        var applied = await SdkScenario.EventuallyAsync(async () =>
        {
            var page = await (await team.Owner.GetAsync(team.Expand("/api/projects/{p}/audit?limit=1"))).ReadObjectAsync();
            return page["items"]![0]!["action"]!.GetValue<string>() == "flag.schedule_applied";
        }, TimeSpan.FromSeconds(15));

        applied.Should().BeTrue();
        var entry = (await (await team.Owner.GetAsync(team.Expand("/api/projects/{p}/audit?limit=1"))).ReadObjectAsync())["items"]![0]!;
        entry["actor"]!["type"]!.GetValue<string>().Should().Be("schedule");
        entry["actor"]!["id"]!.GetValue<string>().Should().Be(schedule["id"]!.GetValue<string>());
        entry["actor"]!["email"]!.GetValue<string>().Should().Be(editorEmail);
        entry["before"]!["enabled"]!.GetValue<bool>().Should().BeFalse();
        entry["after"]!["enabled"]!.GetValue<bool>().Should().BeTrue();
    }

    [Fact]
    public async Task Entries_cannot_be_changed_or_deleted_except_once_their_project_is_gone()
    {
        var team = await TeamScenario.CreateAsync(app);
        await using var db = new NpgsqlConnection(app.ConnectionString);
        var projectId = Guid.Parse(team.ProjectId);

        var update = () => db.ExecuteAsync("UPDATE audit_log SET action = 'x' WHERE project_id = @projectId", new { projectId });
        var delete = () => db.ExecuteAsync("DELETE FROM audit_log WHERE project_id = @projectId", new { projectId });
        await update.Should().ThrowAsync<PostgresException>().Where(e => e.SqlState == "42501");
        await delete.Should().ThrowAsync<PostgresException>().Where(e => e.SqlState == "42501");

        (await team.Owner.DeleteAsync($"/api/projects/{team.ProjectId}")).EnsureSuccessStatusCode();
        var kept = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_log WHERE project_id = @projectId AND action = 'project.deleted'", new { projectId });
        kept.Should().Be(1, "the project's deletion stays on record");
        await update.Should().ThrowAsync<PostgresException>();
        (await delete()).Should().BeGreaterThan(0);
    }
}
