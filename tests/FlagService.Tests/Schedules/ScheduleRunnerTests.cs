using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Dapper;
using FlagService.Tests.Infrastructure;
using Npgsql;

namespace FlagService.Tests.Schedules;

// The runner across instances and restarts: several instances on one database apply each due
// schedule exactly once, and schedules that fell due while no instance ran are applied at start.
public sealed class ScheduleRunnerTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static string SchedulesUrl(string projectId, string flagId) =>
        $"/api/projects/{projectId}/environments/production/flags/{flagId}/schedules";

    private sealed record Outcome(Guid FlagId, string Status, DateTime At, DateTime? AppliedAt, long Updates);

    [Fact]
    public async Task Three_instances_racing_on_many_due_schedules_apply_each_exactly_once()
    {
        var fast = new Dictionary<string, string?> { ["Schedules:RetryMilliseconds"] = "50" };
        await using var instanceB = new FlagServiceFactory(app.ConnectionString, fast);
        await using var instanceC = new FlagServiceFactory(app.ConnectionString, fast);
        _ = instanceB.Server;
        _ = instanceC.Server;

        var sdk = await SdkScenario.CreateAsync(app);
        var flags = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            flags.Add(await sdk.CreateFlagAsync($"flag_{i}", enabled: false, rollout: 0));
        }
        // Every write to a flag's state from here on is counted, so a schedule applied twice shows as two.
        await using (var db = new NpgsqlConnection(app.ConnectionString))
        {
            await db.ExecuteAsync("""
                CREATE TABLE test_state_updates (flag_id uuid NOT NULL, environment_id uuid NOT NULL);
                CREATE FUNCTION test_count_state_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO test_state_updates VALUES (NEW.flag_id, NEW.environment_id);
                    RETURN NULL;
                END $$;
                CREATE TRIGGER test_count_state_update AFTER UPDATE ON flag_environments
                    FOR EACH ROW EXECUTE FUNCTION test_count_state_update();
                """);
        }
        // Made far ahead, then all brought due at the same instant in one statement, so that every
        // instance finds all of them due at once, however long making them took.
        var later = DateTime.UtcNow.AddHours(1);
        foreach (var (flag, i) in flags.Select((f, i) => (f, i)))
        {
            var response = await sdk.Owner.PostJsonAsync(SchedulesUrl(sdk.ProjectId, flag), new { at = later.ToString("O"), change = new { enabled = true, rollout_percentage = i } });
            response.EnsureSuccessStatusCode();
        }
        await using (var db = new NpgsqlConnection(app.ConnectionString))
        {
            // The NOTIFY wakes the runners, which otherwise sleep until the schedules' original time.
            await db.ExecuteAsync("UPDATE flag_schedules SET at = now() WHERE flag_id = ANY(@Flags); SELECT pg_notify('flagservice_config', @Project)",
                new { Flags = flags.Select(Guid.Parse).ToArray(), Project = sdk.ProjectId });
        }

        const string OutcomesSql = """
            SELECT c.flag_id, c.status, c.at, c.applied_at,
                   (SELECT count(*) FROM test_state_updates u WHERE u.flag_id = c.flag_id AND u.environment_id = c.environment_id) AS updates
              FROM flag_schedules c WHERE c.flag_id = ANY(@Flags)
            """;
        var ids = flags.Select(Guid.Parse).ToArray();
        Outcome[] outcomes = [];
        await using (var db = new NpgsqlConnection(app.ConnectionString))
        {
            (await Eventually.TrueAsync(async () =>
            {
                outcomes = [.. await db.QueryAsync<Outcome>(OutcomesSql, new { Flags = ids })];
                return outcomes.All(o => o.Status == "applied");
            })).Should().BeTrue(string.Join(", ", outcomes.Select(o => o.Status)));
            // Stopping B and C ends their runners: whatever they had under way has committed or
            // rolled back, so a second application by another instance would show now.
            await instanceB.DisposeAsync();
            await instanceC.DisposeAsync();
            outcomes = [.. await db.QueryAsync<Outcome>(OutcomesSql, new { Flags = ids })];
        }

        outcomes.Should().HaveCount(30);
        outcomes.Should().OnlyContain(o => o.Updates == 1, "each schedule is applied exactly once");
        outcomes.Should().OnlyContain(o => o.AppliedAt >= o.At);
        var states = await (await sdk.Owner.GetAsync(sdk.Flags)).ReadAsync<JsonArray>();
        states.Select(f => (f!["key"]!.GetValue<string>(), f["enabled"]!.GetValue<bool>(), f["rollout_percentage"]!.GetValue<int>()))
            .Should().BeEquivalentTo(Enumerable.Range(0, 30).Select(i => ($"flag_{i}", true, i)));
    }

    [Fact]
    public async Task Schedule_due_while_no_instance_runs_is_applied_when_one_starts()
    {
        await using var database = await TestDatabase.CreateAsync();
        string projectId, flagId, scheduleId, sdkKey, token;
        DateTime at;
        await using (var first = new FlagServiceFactory(database.ConnectionString))
        {
            var client = first.CreateClient();
            token = await client.RegisterAndLoginAsync(Api.UniqueEmail());
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var project = await client.CreateProjectAsync();
            (projectId, sdkKey) = (project["id"]!.GetValue<string>(), project["sdk_key"]!.GetValue<string>());
            var flag = await client.PostJsonAsync($"/api/projects/{projectId}/flags", new { name = "Launch", key = "launch", enabled = false, rollout_percentage = 100 });
            flagId = (await flag.ReadObjectAsync())["id"]!.GetValue<string>();
            var schedule = await client.PostJsonAsync(SchedulesUrl(projectId, flagId), new { at = DateTime.UtcNow.AddHours(1).ToString("O"), change = new { enabled = true } });
            schedule.EnsureSuccessStatusCode();
            scheduleId = (await schedule.ReadObjectAsync())["id"]!.GetValue<string>();
        }
        // It falls due while no instance runs.
        await using (var db = new NpgsqlConnection(database.ConnectionString))
        {
            at = await db.ExecuteScalarAsync<DateTime>("UPDATE flag_schedules SET at = now() - interval '1 second' WHERE id = @Id RETURNING at",
                new { Id = Guid.Parse(scheduleId) });
            (await db.ExecuteScalarAsync<string>("SELECT status FROM flag_schedules WHERE id = @Id", new { Id = Guid.Parse(scheduleId) }))
                .Should().Be("pending", "no instance was running when it fell due");
        }

        await using var second = new FlagServiceFactory(database.ConnectionString);
        var owner = second.CreateClient();
        owner.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await second.ListeningAsync();
        JsonObject? applied = null;
        (await Eventually.TrueAsync(async () =>
        {
            applied = await (await owner.GetAsync($"{SchedulesUrl(projectId, flagId)}/{scheduleId}")).ReadObjectAsync();
            return applied["status"]!.GetValue<string>() == "applied";
        })).Should().BeTrue(applied?.ToJsonString());
        applied!["applied_at"]!.GetValue<DateTime>().ToUniversalTime().Should().BeAfter(at.ToUniversalTime());

        using var evaluate = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/evaluate") { Content = new StringContent("""{"user_id":"u1"}""", System.Text.Encoding.UTF8, "application/json") };
        evaluate.Headers.Add("X-SDK-Key", sdkKey);
        var answer = await (await second.CreateClient().SendAsync(evaluate)).ReadObjectAsync();
        answer["launch"]!["enabled"]!.GetValue<bool>().Should().BeTrue();
    }
}
