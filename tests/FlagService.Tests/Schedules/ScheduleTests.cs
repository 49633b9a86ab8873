using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using FlagService.Tests.Infrastructure;
using Npgsql;

namespace FlagService.Tests.Schedules;

public sealed class ScheduleTests(AppFixture app) : IClassFixture<AppFixture>
{
    private sealed record Setup(SdkScenario Sdk, string FlagId, string Url)
    {
        public string FlagUrl(string env = "production") => $"/api/projects/{Sdk.ProjectId}/environments/{env}/flags/{FlagId}";
    }

    private static string SchedulesUrl(string projectId, string env, string flagId) =>
        $"/api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules";

    private static string At(TimeSpan fromNow) => (DateTime.UtcNow + fromNow).ToString("O");

    private async Task<Setup> BooleanFlagAsync(bool enabled = false, int rollout = 100, string env = "production")
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("launch", enabled, rollout);
        return new Setup(sdk, flag, SchedulesUrl(sdk.ProjectId, env, flag));
    }

    private async Task<Setup> ColorFlagAsync()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var response = await sdk.Owner.PostJsonAsync(sdk.Flags, new
        {
            name = "Checkout color", key = "checkout_color", value_type = "string", enabled = true,
            variants = new object[] { new { key = "control", value = "#000" }, new { key = "blue", value = "#00f" }, new { key = "green", value = "#0a0" } },
            serve = new { variant = "control" },
        });
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var flag = (await response.ReadObjectAsync())["id"]!.GetValue<string>();
        return new Setup(sdk, flag, SchedulesUrl(sdk.ProjectId, "production", flag));
    }

    private static async Task<JsonObject> CreatedAsync(HttpResponseMessage response)
    {
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.ReadObjectAsync();
    }

    private static async Task<JsonObject> WaitForStatusAsync(HttpClient client, string url, string status, TimeSpan within)
    {
        JsonObject? last = null;
        await SdkScenario.EventuallyAsync(async () =>
        {
            last = await (await client.GetAsync(url)).ReadObjectAsync();
            return last["status"]!.GetValue<string>() == status;
        }, within);
        last!["status"]!.GetValue<string>().Should().Be(status, last.ToJsonString());
        return last;
    }

    [Fact]
    public async Task Create_returns_the_pending_schedule_with_its_change_and_author()
    {
        var setup = await BooleanFlagAsync();
        var me = await (await setup.Sdk.Owner.GetAsync("/api/me")).ReadObjectAsync();
        var at = DateTime.UtcNow.AddHours(1);

        var response = await setup.Sdk.Owner.PostJsonAsync(setup.Url, new { at = at.ToString("O"), change = new { enabled = true, rollout_percentage = 25 } });

        var schedule = await CreatedAsync(response);
        response.Headers.Location!.ToString().Should().Be($"{setup.Url}/{schedule["id"]}");
        schedule["status"]!.GetValue<string>().Should().Be("pending");
        schedule["at"]!.GetValue<DateTime>().ToUniversalTime().Should().BeCloseTo(at, TimeSpan.FromMilliseconds(1));
        schedule["created_by"]!.GetValue<string>().Should().Be(me["id"]!.GetValue<string>());
        schedule["flag_id"]!.GetValue<string>().Should().Be(setup.FlagId);
        schedule["environment"]!.GetValue<string>().Should().Be("production");
        schedule["change"]!.ToJsonString().Should().Be(
            """{"enabled":true,"rollout_percentage":25,"serve":{"distribution":[{"variant":"on","weight":25},{"variant":"off","weight":75}]}}""",
            "a boolean flag's rollout is shown both ways, as on the flag");
        schedule["applied_at"].Should().BeNull();
        schedule["failure_reason"].Should().BeNull();
        schedule["created_at"]!.GetValue<DateTime>().Should().BeCloseTo(DateTime.UtcNow, TimeSpan.FromSeconds(10));

        var fetched = await (await setup.Sdk.Owner.GetAsync(response.Headers.Location)).ReadObjectAsync();
        fetched.ToJsonString().Should().Be(schedule.ToJsonString());
        var offset = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url,
            new { at = "2999-01-01T10:00:00+02:00", change = new { serve = new { variant = "on" } } }));
        offset["at"]!.GetValue<string>().Should().Be("2999-01-01T08:00:00Z", "an instant in any offset is kept in UTC");
        offset["change"]!.ToJsonString().Should().Be(
            """{"rollout_percentage":100,"serve":{"distribution":[{"variant":"on","weight":100},{"variant":"off","weight":0}]}}""");
    }

    [Fact]
    public async Task Schedule_is_applied_within_a_second_of_its_time_and_evaluation_follows()
    {
        var setup = await BooleanFlagAsync(enabled: false, rollout: 100);
        var client = app.CreateClient();
        (await setup.Sdk.EvaluateAsync(client, new { user_id = "u1" }))["launch"]!["enabled"]!.GetValue<bool>().Should().BeFalse();
        var at = DateTime.UtcNow.AddSeconds(1);

        var schedule = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url, new { at = at.ToString("O"), change = new { enabled = true } }));

        (await SdkScenario.EventuallyAsync(async () =>
            (await setup.Sdk.EvaluateAsync(client, new { user_id = "u1" }))["launch"]!["enabled"]!.GetValue<bool>(), TimeSpan.FromSeconds(3)))
            .Should().BeTrue("the schedule turns the flag on and the snapshot is dropped");
        var applied = await WaitForStatusAsync(setup.Sdk.Owner, $"{setup.Url}/{schedule["id"]}", "applied", TimeSpan.FromSeconds(1));
        var appliedAt = applied["applied_at"]!.GetValue<DateTime>().ToUniversalTime();
        appliedAt.Should().BeOnOrAfter(at.AddMilliseconds(-50)).And.BeOnOrBefore(at.AddSeconds(1), "due schedules are applied within about a second");
        applied["failure_reason"].Should().BeNull();

        var flag = await (await setup.Sdk.Owner.GetAsync(setup.FlagUrl())).ReadObjectAsync();
        (flag["enabled"]!.GetValue<bool>(), flag["rollout_percentage"]!.GetValue<int>()).Should().Be((true, 100), "fields the change leaves out keep their value");
    }

    [Fact]
    public async Task Schedule_in_staging_changes_staging_only()
    {
        var setup = await BooleanFlagAsync(enabled: true, rollout: 100, env: "staging");
        var schedule = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url,
            new { at = At(TimeSpan.FromMilliseconds(500)), change = new { enabled = true, rollout_percentage = 30 } }));
        schedule["environment"]!.GetValue<string>().Should().Be("staging");

        await WaitForStatusAsync(setup.Sdk.Owner, $"{setup.Url}/{schedule["id"]}", "applied", TimeSpan.FromSeconds(3));

        var staging = await (await setup.Sdk.Owner.GetAsync(setup.FlagUrl("staging"))).ReadObjectAsync();
        (staging["enabled"]!.GetValue<bool>(), staging["rollout_percentage"]!.GetValue<int>()).Should().Be((true, 30));
        var production = await (await setup.Sdk.Owner.GetAsync(setup.FlagUrl())).ReadObjectAsync();
        (production["enabled"]!.GetValue<bool>(), production["rollout_percentage"]!.GetValue<int>()).Should().Be((true, 100));
        (await (await setup.Sdk.Owner.GetAsync(SchedulesUrl(setup.Sdk.ProjectId, "production", setup.FlagId))).ReadAsync<JsonArray>())
            .Should().BeEmpty("schedules are per environment");
    }

    [Fact]
    public async Task Multivariate_schedule_serves_its_variant_and_a_removed_variant_fails_with_the_reason()
    {
        var setup = await ColorFlagAsync();
        var client = app.CreateClient();
        var green = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url,
            new { at = At(TimeSpan.FromMilliseconds(500)), change = new { serve = new { variant = "green" }, off_variant = "blue" } }));
        green["change"]!.ToJsonString().Should().Be("""{"off_variant":"blue","serve":{"variant":"green"}}""");
        await WaitForStatusAsync(setup.Sdk.Owner, $"{setup.Url}/{green["id"]}", "applied", TimeSpan.FromSeconds(3));
        (await SdkScenario.EventuallyAsync(async () =>
            (await setup.Sdk.EvaluateAsync(client, new { user_id = "u1" }))["checkout_color"]!["variant"]!.GetValue<string>() == "green",
            TimeSpan.FromSeconds(1))).Should().BeTrue();

        // Back to control, and schedule blue; then remove blue before it is due (nothing serves it yet
        // once off_variant is back to control).
        (await setup.Sdk.Owner.PutJsonAsync(setup.FlagUrl(), new { serve = new { variant = "control" }, off_variant = "control" })).EnsureSuccessStatusCode();
        var blue = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url,
            new { at = At(TimeSpan.FromSeconds(1.5)), change = new { serve = new { distribution = new[] { new { variant = "control", weight = 50 }, new { variant = "blue", weight = 50 } } } } }));
        var removal = await setup.Sdk.Owner.PutJsonAsync(setup.FlagUrl(), new
        {
            variants = new object[] { new { key = "control", value = "#000" }, new { key = "green", value = "#0a0" } },
        });
        removal.StatusCode.Should().Be(HttpStatusCode.OK, await removal.Content.ReadAsStringAsync());

        var failed = await WaitForStatusAsync(setup.Sdk.Owner, $"{setup.Url}/{blue["id"]}", "failed", TimeSpan.FromSeconds(4));
        failed["failure_reason"]!.GetValue<string>().Should().Be("change.serve.distribution[1].variant names no variant of this flag ('blue')");
        failed["applied_at"].Should().BeNull();
        var flag = await (await setup.Sdk.Owner.GetAsync(setup.FlagUrl())).ReadObjectAsync();
        flag["serve"]!.ToJsonString().Should().Be("""{"variant":"control"}""", "a failed schedule writes nothing");
        var listed = await (await setup.Sdk.Owner.GetAsync(setup.Url)).ReadAsync<JsonArray>();
        listed.Select(s => s!["status"]!.GetValue<string>()).Should().Equal("applied", "failed");
        listed[1]!["failure_reason"]!.GetValue<string>().Should().Contain("'blue'", "the reason is kept");
    }

    [Fact]
    public async Task List_shows_every_schedule_soonest_first_with_cancelled_ones_kept()
    {
        var setup = await BooleanFlagAsync();
        var later = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url, new { at = At(TimeSpan.FromHours(3)), change = new { enabled = true } }));
        var soon = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url, new { at = At(TimeSpan.FromHours(1)), change = new { enabled = false } }));
        var middle = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url, new { at = At(TimeSpan.FromHours(2)), change = new { rollout_percentage = 5 } }));
        (await setup.Sdk.Owner.DeleteAsync($"{setup.Url}/{middle["id"]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var listed = await (await setup.Sdk.Owner.GetAsync(setup.Url)).ReadAsync<JsonArray>();

        listed.Select(s => s!["id"]!.GetValue<string>()).Should().Equal(soon["id"]!.GetValue<string>(), middle["id"]!.GetValue<string>(), later["id"]!.GetValue<string>());
        listed.Select(s => s!["status"]!.GetValue<string>()).Should().Equal("pending", "cancelled", "pending");
        listed[1]!["cancelled_at"]!.GetValue<DateTime>().Should().BeCloseTo(DateTime.UtcNow, TimeSpan.FromSeconds(10));
        listed[0]!["change"]!.ToJsonString().Should().Be("""{"enabled":false}""");
        (await (await setup.Sdk.Owner.GetAsync(SchedulesUrl(setup.Sdk.ProjectId, "staging", setup.FlagId))).ReadAsync<JsonArray>()).Should().BeEmpty();
    }

    [Fact]
    public async Task Cancel_stops_a_pending_schedule_and_only_a_pending_one()
    {
        var setup = await BooleanFlagAsync(enabled: false);
        // Far ahead, then brought due in the database: the cancelled one first, so that once the
        // runner has applied the other (it applies due schedules soonest first), it has passed the
        // cancelled one's time too. No sleeping until then.
        var cancelled = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url, new { at = At(TimeSpan.FromHours(1)), change = new { enabled = true } }));
        var applied = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url, new { at = At(TimeSpan.FromHours(1)), change = new { rollout_percentage = 40 } }));

        (await setup.Sdk.Owner.DeleteAsync($"{setup.Url}/{cancelled["id"]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await using (var db = new NpgsqlConnection(app.ConnectionString))
        {
            await db.ExecuteAsync("UPDATE flag_schedules SET at = now() - interval '1 second' WHERE id = @Id::uuid", new { Id = cancelled["id"]!.GetValue<string>() });
            // The NOTIFY wakes the runner, which otherwise sleeps until the schedule's original time.
            await db.ExecuteAsync("UPDATE flag_schedules SET at = now() WHERE id = @Id::uuid; SELECT pg_notify('flagservice_config', @Project)",
                new { Id = applied["id"]!.GetValue<string>(), Project = setup.Sdk.ProjectId });
        }
        await WaitForStatusAsync(setup.Sdk.Owner, $"{setup.Url}/{applied["id"]}", "applied", Eventually.Patience);

        var flag = await (await setup.Sdk.Owner.GetAsync(setup.FlagUrl())).ReadObjectAsync();
        (flag["enabled"]!.GetValue<bool>(), flag["rollout_percentage"]!.GetValue<int>()).Should().Be((false, 40), "the cancelled change never ran");
        (await (await setup.Sdk.Owner.GetAsync($"{setup.Url}/{cancelled["id"]}")).ReadObjectAsync())["status"]!.GetValue<string>().Should().Be("cancelled");

        var again = await (await setup.Sdk.Owner.DeleteAsync($"{setup.Url}/{cancelled["id"]}")).ShouldBeProblemAsync(409);
        again["detail"]!.GetValue<string>().Should().Contain("cancelled");
        again["schedule_status"]!.GetValue<string>().Should().Be("cancelled");
        var done = await (await setup.Sdk.Owner.DeleteAsync($"{setup.Url}/{applied["id"]}")).ShouldBeProblemAsync(409);
        done["detail"]!.GetValue<string>().Should().Contain("applied");
        (await (await setup.Sdk.Owner.GetAsync($"{setup.Url}/{applied["id"]}")).ReadObjectAsync())["status"]!.GetValue<string>().Should().Be("applied");
        await (await setup.Sdk.Owner.DeleteAsync($"{setup.Url}/{Guid.NewGuid()}")).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Invalid_schedules_are_refused_with_the_field_named()
    {
        var boolean = await BooleanFlagAsync();
        var color = await ColorFlagAsync();
        var future = At(TimeSpan.FromHours(1));
        var owner = boolean.Sdk.Owner;

        await (await owner.PostJsonAsync(boolean.Url, new { change = new { enabled = true } })).ShouldBeValidationErrorAsync("at", "is required");
        await (await owner.PostJsonAsync(boolean.Url, new { at = At(TimeSpan.FromSeconds(-1)), change = new { enabled = true } }))
            .ShouldBeValidationErrorAsync("at", "must be in the future");
        await (await owner.PostJsonAsync(boolean.Url, new { at = 12, change = new { enabled = true } })).ShouldBeValidationErrorAsync("at", "RFC 3339");
        await (await owner.PostJsonAsync(boolean.Url, new { at = "tomorrow", change = new { enabled = true } })).ShouldBeValidationErrorAsync("at", "RFC 3339");
        await (await owner.PostJsonAsync(boolean.Url, new { at = future })).ShouldBeValidationErrorAsync("change", "is required");
        await (await owner.PostJsonAsync(boolean.Url, new { at = future, change = new { } })).ShouldBeValidationErrorAsync("change", "at least one of");
        await (await owner.PostJsonAsync(boolean.Url, new { at = future, change = 5 })).ShouldBeValidationErrorAsync("change", "an object");
        await (await owner.PostJsonAsync(boolean.Url, new { at = future, change = new { enable = true } }))
            .ShouldBeValidationErrorAsync("change.enable", "is not a field");
        await (await owner.PostJsonAsync(boolean.Url, new { at = future, change = new { enabled = "yes" } }))
            .ShouldBeValidationErrorAsync("change.enabled", "true or false");
        await (await owner.PostJsonAsync(boolean.Url, new { at = future, change = new { rollout_percentage = 150 } }))
            .ShouldBeValidationErrorAsync("change.rollout_percentage", "from 0 to 100");
        await (await owner.PostJsonAsync(boolean.Url, new { at = future, change = new { rollout_percentage = 20, serve = new { variant = "on" } } }))
            .ShouldBeValidationErrorAsync("change.serve", "rollout_percentage says 20");
        await (await owner.PostJsonAsync(boolean.Url, new { at = future, change = new { off_variant = "on" } }))
            .ShouldBeValidationErrorAsync("change.off_variant", "always off");
        await (await owner.PostJsonAsync(boolean.Url, new { at = future, change = new { off_variant = "off" } }))
            .ShouldBeValidationErrorAsync("change", "at least one of");
        await (await owner.PostRawAsync(boolean.Url, "{\"at\":")).ShouldBeValidationErrorAsync("body", "valid JSON");
        await (await color.Sdk.Owner.PostJsonAsync(color.Url, new { at = future, change = new { serve = new { variant = "purple" } } }))
            .ShouldBeValidationErrorAsync("change.serve.variant", "names no variant");
        await (await color.Sdk.Owner.PostJsonAsync(color.Url, new { at = future, change = new { serve = new { distribution = new[] { new { variant = "blue", weight = 60 } } } } }))
            .ShouldBeValidationErrorAsync("change.serve.distribution", "sum to 100");
        await (await color.Sdk.Owner.PostJsonAsync(color.Url, new { at = future, change = new { rollout_percentage = 50 } }))
            .ShouldBeValidationErrorAsync("change.rollout_percentage", "boolean flags only");
        await (await color.Sdk.Owner.PostJsonAsync(color.Url, new { at = future, change = new { off_variant = "purple" } }))
            .ShouldBeValidationErrorAsync("change.off_variant", "names no variant");

        (await (await owner.GetAsync(boolean.Url)).ReadAsync<JsonArray>()).Should().BeEmpty();
        (await (await color.Sdk.Owner.GetAsync(color.Url)).ReadAsync<JsonArray>()).Should().BeEmpty();
    }

    [Fact]
    public async Task Another_users_or_unknown_flags_environments_and_schedules_are_404_and_bad_ids_400()
    {
        var setup = await BooleanFlagAsync();
        var schedule = await CreatedAsync(await setup.Sdk.Owner.PostJsonAsync(setup.Url, new { at = At(TimeSpan.FromHours(1)), change = new { enabled = true } }));
        var one = $"{setup.Url}/{schedule["id"]}";
        var body = new { at = At(TimeSpan.FromHours(1)), change = new { enabled = true } };

        var stranger = await app.AuthenticatedClientAsync();
        await (await stranger.PostJsonAsync(setup.Url, body)).ShouldBeProblemAsync(404);
        await (await stranger.GetAsync(setup.Url)).ShouldBeProblemAsync(404);
        await (await stranger.GetAsync(one)).ShouldBeProblemAsync(404);
        await (await stranger.DeleteAsync(one)).ShouldBeProblemAsync(404);

        // The stranger's own project id with the owner's flag is no better.
        var theirs = (await stranger.CreateProjectAsync())["id"]!.GetValue<string>();
        await (await stranger.GetAsync(SchedulesUrl(theirs, "production", setup.FlagId))).ShouldBeProblemAsync(404);
        await (await stranger.PostJsonAsync(SchedulesUrl(theirs, "production", setup.FlagId), body)).ShouldBeProblemAsync(404);

        var owner = setup.Sdk.Owner;
        var unknownFlag = SchedulesUrl(setup.Sdk.ProjectId, "production", Guid.NewGuid().ToString());
        var unknownEnv = SchedulesUrl(setup.Sdk.ProjectId, "qa", setup.FlagId);
        await (await owner.GetAsync(unknownFlag)).ShouldBeProblemAsync(404);
        await (await owner.PostJsonAsync(unknownFlag, body)).ShouldBeProblemAsync(404);
        await (await owner.GetAsync(unknownEnv)).ShouldBeProblemAsync(404);
        await (await owner.PostJsonAsync(unknownEnv, body)).ShouldBeProblemAsync(404);
        await (await owner.GetAsync($"{setup.Url}/{Guid.NewGuid()}")).ShouldBeProblemAsync(404);
        // The schedule exists, but not in staging.
        await (await owner.GetAsync($"{SchedulesUrl(setup.Sdk.ProjectId, "staging", setup.FlagId)}/{schedule["id"]}")).ShouldBeProblemAsync(404);
        await (await owner.DeleteAsync($"{SchedulesUrl(setup.Sdk.ProjectId, "staging", setup.FlagId)}/{schedule["id"]}")).ShouldBeProblemAsync(404);

        await (await owner.GetAsync(SchedulesUrl("nope", "production", setup.FlagId))).ShouldBeValidationErrorAsync("projectId", "must be a UUID");
        await (await owner.PostJsonAsync(SchedulesUrl(setup.Sdk.ProjectId, "production", "nope"), body)).ShouldBeValidationErrorAsync("flagId", "must be a UUID");
        await (await owner.DeleteAsync($"{setup.Url}/nope")).ShouldBeValidationErrorAsync("scheduleId", "must be a UUID");
        await (await owner.GetAsync($"{setup.Url}/nope")).ShouldBeValidationErrorAsync("scheduleId", "must be a UUID");

        var anonymous = app.CreateClient();
        (await anonymous.GetAsync(setup.Url)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await anonymous.PostJsonAsync(setup.Url, body)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        (await (await owner.GetAsync(one)).ReadObjectAsync())["status"]!.GetValue<string>().Should().Be("pending", "nothing the stranger sent cancelled it");
    }

    [Fact]
    public async Task Deleting_the_flag_or_the_environment_removes_its_schedules()
    {
        var setup = await BooleanFlagAsync();
        var owner = setup.Sdk.Owner;
        (await owner.PostJsonAsync($"/api/projects/{setup.Sdk.ProjectId}/environments", new { key = "qa", name = "QA" })).EnsureSuccessStatusCode();
        var qa = SchedulesUrl(setup.Sdk.ProjectId, "qa", setup.FlagId);
        await CreatedAsync(await owner.PostJsonAsync(qa, new { at = At(TimeSpan.FromHours(1)), change = new { enabled = true } }));
        await CreatedAsync(await owner.PostJsonAsync(setup.Url, new { at = At(TimeSpan.FromHours(1)), change = new { enabled = true } }));
        await using var db = new NpgsqlConnection(app.ConnectionString);
        const string Count = "SELECT count(*) FROM flag_schedules WHERE flag_id = @FlagId";
        (await db.ExecuteScalarAsync<long>(Count, new { FlagId = Guid.Parse(setup.FlagId) })).Should().Be(2);

        (await owner.DeleteAsync($"/api/projects/{setup.Sdk.ProjectId}/environments/qa")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await db.ExecuteScalarAsync<long>(Count, new { FlagId = Guid.Parse(setup.FlagId) })).Should().Be(1);

        (await owner.DeleteAsync(setup.FlagUrl())).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await db.ExecuteScalarAsync<long>(Count, new { FlagId = Guid.Parse(setup.FlagId) })).Should().Be(0);
    }
}
