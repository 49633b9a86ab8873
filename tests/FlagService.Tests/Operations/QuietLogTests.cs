using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Operations;

// The service in a process of its own at the default log level, as operators first run it: after
// start-up an idle service writes nothing, no SQL shows, and a management request is one line that
// carries the trace id its error body gave the user.
public sealed partial class QuietLogTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData("Production")]
    [InlineData("Development")]
    public async Task Idle_service_writes_nothing_and_a_request_is_one_line_with_its_trace_id(string environment)
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var service = ServiceProcess.Start(database.ConnectionString, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = environment,
        });
        (await service.ReadyAsync(TimeSpan.FromSeconds(60))).Should().BeTrue(string.Join('\n', service.Output));

        // A schedule far in the future: the runner has something pending, yet nothing to do now.
        var client = service.Client;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await client.RegisterAndLoginAsync(Api.UniqueEmail()));
        var projectId = (await client.CreateProjectAsync())["id"]!.GetValue<string>();
        var flag = await (await client.PostJsonAsync($"/api/projects/{projectId}/flags", new { name = "Launch", key = "launch" })).ReadObjectAsync();
        (await client.PostJsonAsync($"/api/projects/{projectId}/environments/production/flags/{flag["id"]}/schedules",
            new { at = DateTime.UtcNow.AddDays(1).ToString("O"), change = new { enabled = true } })).EnsureSuccessStatusCode();
        var missing = await (await client.GetAsync($"/api/projects/{Guid.NewGuid()}")).ShouldBeProblemAsync(404);
        var traceId = TraceIdPattern().Match(missing["trace_id"]!.GetValue<string>()).Value;
        traceId.Should().NotBeEmpty();
        // The request's line is written when its response has gone out.
        (await SdkScenario.EventuallyAsync(() => Task.FromResult(service.Output.Any(l => l.Contains(traceId, StringComparison.Ordinal))),
            TimeSpan.FromSeconds(5))).Should().BeTrue(string.Join('\n', service.Output));

        var before = service.Output.Count;
        await Task.Delay(Idle);
        var output = service.Output;

        output.Skip(before).Should().BeEmpty("an idle service writes nothing");
        output.Where(l => l.Contains(traceId, StringComparison.Ordinal)).Should().ContainSingle("one line per management request");
        output.Where(l => l.Contains("Npgsql", StringComparison.Ordinal) || l.Contains("SELECT", StringComparison.Ordinal)).Should().BeEmpty("no SQL at the default level");
    }

    [Fact]
    public async Task Schedule_runner_sends_no_query_while_nothing_is_due()
    {
        await using var database = await TestDatabase.CreateAsync();
        // Statements shown, as an operator who debugs would: the only way to see the runner's queries.
        await using var service = ServiceProcess.Start(database.ConnectionString, new Dictionary<string, string>
        {
            ["Logging__LogLevel__Npgsql"] = "Information",
        });
        (await service.ReadyAsync(TimeSpan.FromSeconds(60))).Should().BeTrue(string.Join('\n', service.Output));
        await Task.Delay(TimeSpan.FromSeconds(1)); // the runner's first look, at start

        var before = service.Output.Count;
        await Task.Delay(Idle);

        service.Output.Skip(before).Where(l => l.Contains("flag_schedules", StringComparison.Ordinal))
            .Should().BeEmpty("the runner sleeps until a schedule is due or a change wakes it");
        service.Output.Take(before).Should().Contain(l => l.Contains("flag_schedules", StringComparison.Ordinal),
            "the runner's look at start is shown at this level, so its absence later means something");
    }

    [GeneratedRegex("[0-9a-f]{32}")]
    private static partial Regex TraceIdPattern();
}
