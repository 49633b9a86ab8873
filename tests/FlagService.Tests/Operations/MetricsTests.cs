using System.Net;
using FlagService.Features.Analytics;
using FlagService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FlagService.Tests.Operations;

// Meters are process-wide and OpenTelemetry listens to every meter of a name, whichever host made it:
// with several test hosts alive, one host's /metrics could show another's instruments. These classes
// therefore run alone, after the parallel ones.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "Metrics";
}

// Every metric of /metrics, moved by the request that should move it.
[Collection(MetricsCollection.Name)]
public sealed class MetricsTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Request_duration_is_labelled_by_route_template_and_status_never_by_raw_path()
    {
        var scenario = await SdkScenario.CreateAsync(app);
        var client = app.CreateClient();
        var before = Scrape.Value(await client.MetricsAsync(), "http_server_request_duration_seconds_count",
            ("http_route", "/api/projects/{projectId}"), ("http_response_status_code", "200"));

        (await scenario.Owner.GetAsync($"/api/projects/{scenario.ProjectId}")).EnsureSuccessStatusCode();
        (await scenario.Owner.GetAsync($"/api/projects/{Guid.NewGuid()}")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var scrape = await client.MetricsAsync();
        Scrape.Value(scrape, "http_server_request_duration_seconds_count",
            ("http_route", "/api/projects/{projectId}"), ("http_response_status_code", "200")).Should().Be(before + 1);
        Scrape.Value(scrape, "http_server_request_duration_seconds_count",
            ("http_route", "/api/projects/{projectId}"), ("http_response_status_code", "404")).Should().BeGreaterThanOrEqualTo(1);
        scrape.Should().NotContain(scenario.ProjectId).And.NotContain(scenario.SdkKey);
    }

    [Fact]
    public async Task Evaluations_are_counted_by_reason_once_flushed()
    {
        var scenario = await SdkScenario.CreateAsync(app);
        await scenario.CreateFlagAsync("off_flag", enabled: false);
        await scenario.CreateFlagAsync("all_on", enabled: true, rollout: 100);
        var client = app.CreateClient();
        var before = await client.MetricsAsync();

        for (var i = 0; i < 3; i++)
        {
            await scenario.EvaluateAsync(client, new { user_id = $"u{i}" });
        }
        await app.Factory.Services.GetRequiredService<AnalyticsFlusher>().FlushAsync();

        var after = await client.MetricsAsync();
        foreach (var reason in new[] { "disabled", "rollout" })
        {
            (Scrape.Value(after, "flagservice_evaluations_total", ("reason", reason)) -
             Scrape.Value(before, "flagservice_evaluations_total", ("reason", reason))).Should().Be(3, reason);
        }
        Scrape.Value(after, "flagservice_analytics_flush_duration_seconds_count", ("outcome", "ok"))
            .Should().BeGreaterThan(Scrape.Value(before, "flagservice_analytics_flush_duration_seconds_count", ("outcome", "ok")));
        Scrape.Has(after, "flagservice_analytics_pending_rows").Should().BeTrue();
        Scrape.Has(after, "flagservice_analytics_dropped_total").Should().BeTrue();
    }

    [Fact]
    public async Task Snapshot_loads_snapshots_in_memory_and_configuration_changes_move()
    {
        var scenario = await SdkScenario.CreateAsync(app);
        var flag = await scenario.CreateFlagAsync("checkout");
        var client = app.CreateClient();
        (await ListeningAsync(client)).Should().BeTrue("notifications need the listener");
        var before = await client.MetricsAsync();

        // The flag's own NOTIFY may come back after the first load and drop it: evaluate until the
        // project is in memory.
        string loaded = "";
        (await SdkScenario.EventuallyAsync(async () =>
        {
            await scenario.EvaluateAsync(client);
            loaded = await client.MetricsAsync();
            return Scrape.Value(loaded, "flagservice_snapshots") >= 1;
        }, TimeSpan.FromSeconds(10))).Should().BeTrue("an evaluated environment is in memory");
        Scrape.Value(loaded, "flagservice_snapshot_loads_total").Should().BeGreaterThanOrEqualTo(Scrape.Value(before, "flagservice_snapshot_loads_total") + 1);

        // The toggle's NOTIFY comes back to this instance's own listener.
        (await scenario.Owner.PostAsync($"{scenario.Flags}/{flag}/toggle", null)).EnsureSuccessStatusCode();
        var changed = await SdkScenario.EventuallyAsync(async () =>
            Scrape.Value(await client.MetricsAsync(), "flagservice_configuration_changes_total") > Scrape.Value(loaded, "flagservice_configuration_changes_total"),
            TimeSpan.FromSeconds(10));
        changed.Should().BeTrue();
    }

    [Fact]
    public async Task Pending_rows_and_failed_flushes_show_while_the_database_is_down()
    {
        var scenario = await SdkScenario.CreateAsync(app);
        await scenario.CreateFlagAsync("kept_in_memory");
        var client = app.CreateClient();
        // The flag's own NOTIFY may come back after a first load and drop that snapshot: warm until a
        // second look loads nothing new, so that the snapshot is in memory when the database goes.
        await app.Factory.NotificationsHandledAsync();
        await scenario.EvaluateAsync(client, new { user_id = "warm" });
        var loads = Scrape.Value(await client.MetricsAsync(), "flagservice_snapshot_loads_total");
        await scenario.EvaluateAsync(client, new { user_id = "warm" });
        Scrape.Value(await client.MetricsAsync(), "flagservice_snapshot_loads_total").Should().Be(loads, "the snapshot stays in memory");
        var flusher = app.Factory.Services.GetRequiredService<AnalyticsFlusher>();
        await flusher.FlushAsync();
        var before = await client.MetricsAsync();

        await app.Database.RefuseConnectionsAsync();
        try
        {
            await scenario.EvaluateAsync(client, new { user_id = "while_down" });
            await flusher.FlushAsync();
            var down = await client.MetricsAsync();
            Scrape.Value(down, "flagservice_analytics_pending_rows").Should().BeGreaterThan(0);
            Scrape.Value(down, "flagservice_analytics_flush_duration_seconds_count", ("outcome", "failed"))
                .Should().BeGreaterThan(Scrape.Value(before, "flagservice_analytics_flush_duration_seconds_count", ("outcome", "failed")));
        }
        finally
        {
            await app.Database.AllowConnectionsAsync();
        }
        await flusher.FlushAsync();
        Scrape.Value(await client.MetricsAsync(), "flagservice_analytics_pending_rows").Should().Be(0);

        (await ListeningAsync(client)).Should().BeTrue("the listener reconnects once the database is back");
    }

    // Ready includes a connected configuration listener (which a test that stopped the database cut).
    private static Task<bool> ListeningAsync(HttpClient client) =>
        SdkScenario.EventuallyAsync(async () => (await client.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(20));
}

public sealed class SmallAnalyticsBoundsFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Analytics:MaxPendingIdentifiers"] = "1000",
    };
}

[Collection(MetricsCollection.Name)]
public sealed class DroppedMetricTests(SmallAnalyticsBoundsFixture app) : IClassFixture<SmallAnalyticsBoundsFixture>
{
    [Fact]
    public async Task Identifiers_beyond_the_memory_bound_are_counted_as_dropped()
    {
        var scenario = await SdkScenario.CreateAsync(app);
        await scenario.CreateFlagAsync("many_users");
        var client = app.CreateClient();

        for (var i = 0; i < 1010; i++)
        {
            await scenario.EvaluateAsync(client, new { user_id = $"user_{i}" });
        }
        await app.Factory.Services.GetRequiredService<AnalyticsFlusher>().FlushAsync();

        Scrape.Value(await client.MetricsAsync(), "flagservice_analytics_dropped_total").Should().Be(10);
    }
}

public sealed class MetricsTokenFixture : AppFixture
{
    public const string Token = "scrape-token-0123456789abcdef";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Metrics:Token"] = Token,
    };
}

[Collection(MetricsCollection.Name)]
public sealed class MetricsTokenTests(MetricsTokenFixture app) : IClassFixture<MetricsTokenFixture>
{
    [Fact]
    public async Task Metrics_behind_a_token_refuse_scrapes_without_it()
    {
        var client = app.CreateClient();
        await (await client.GetAsync("/metrics")).ShouldBeProblemAsync(401);

        client.DefaultRequestHeaders.Authorization = new("Bearer", "wrong-token-0123456789abcdef");
        await (await client.GetAsync("/metrics")).ShouldBeProblemAsync(401);

        client.DefaultRequestHeaders.Authorization = new("Bearer", MetricsTokenFixture.Token);
        (await client.MetricsAsync()).Should().Contain("http_server_request_duration_seconds");

        // The token guards /metrics only.
        (await app.CreateClient().GetAsync("/health/live")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
