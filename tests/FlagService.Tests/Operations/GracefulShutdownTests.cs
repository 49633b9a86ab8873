using System.Diagnostics;
using System.Net;
using Dapper;
using FlagService.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace FlagService.Tests.Operations;

public sealed class GracefulShutdownTests(ITestOutputHelper output)
{
    private const int Flags = 5;
    private const int Workers = 8;

    [Fact]
    public async Task Sigterm_under_load_drains_finishes_every_accepted_request_and_flushes_its_analytics()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var service = ServiceProcess.Start(database.ConnectionString, new Dictionary<string, string>
        {
            ["Shutdown__DrainSeconds"] = "2",
            // Longer than the test's load: the counts in the database come from the flush on shutdown.
            ["Analytics__FlushIntervalMilliseconds"] = "10000",
        });
        (await service.ReadyAsync(TimeSpan.FromSeconds(60))).Should().BeTrue(string.Join('\n', service.Output));

        var owner = service.Client;
        owner.DefaultRequestHeaders.Authorization = new("Bearer", await owner.RegisterAndLoginAsync(Api.UniqueEmail()));
        var project = await owner.CreateProjectAsync();
        var projectId = Guid.Parse(project["id"]!.GetValue<string>());
        var key = project["sdk_key"]!.GetValue<string>();
        for (var i = 0; i < Flags; i++)
        {
            (await owner.PostJsonAsync($"/api/projects/{projectId}/flags", new { name = $"f{i}", key = $"f{i}", enabled = true, rollout_percentage = 50 }))
                .EnsureSuccessStatusCode();
        }

        var load = new Load();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(() => load.RunAsync(service.Port, key, w, stop.Token))).ToArray();
        (await SdkScenario.EventuallyAsync(() => Task.FromResult(load.Ok > 200), TimeSpan.FromSeconds(30))).Should().BeTrue();

        var stopping = Stopwatch.StartNew();
        load.Terminating();
        await service.TerminateAsync();
        // Not ready at once, while still answering: a load balancer has DrainSeconds to take it out.
        var notReady = await SdkScenario.EventuallyAsync(async () =>
            (await service.Client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(1.5));
        notReady.Should().BeTrue();
        var okWhenNotReady = load.Ok;

        var exitCode = await service.ExitCodeAsync(TimeSpan.FromSeconds(30));
        var exitedAfter = stopping.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        output.WriteLine($"ok {load.Ok}, refused {load.Refused}, unanswered {load.Unanswered}, exited {exitedAfter.TotalMilliseconds:0} ms after SIGTERM");

        exitCode.Should().Be(0, string.Join('\n', service.Output.TakeLast(20)));
        exitedAfter.Should().BeLessThan(TimeSpan.FromSeconds(10), "drain (2 s) + in-flight requests + the last flush fit in docker stop's 10 s");
        load.Failures.Should().BeEmpty("every request the instance accepted is answered");
        load.Ok.Should().BeGreaterThan(okWhenNotReady, "requests are still served during the drain");
        load.Refused.Should().BeGreaterThan(0, "the load went on until the listener closed");

        await using var db = new NpgsqlConnection(database.ConnectionString);
        var counted = await db.ExecuteScalarAsync<long>("""
            SELECT COALESCE(sum(c.count), 0)::bigint FROM flag_evaluation_counts c
              JOIN feature_flags f ON f.id = c.flag_id WHERE f.project_id = @projectId
            """, new { projectId });
        // Every request the service evaluated was answered 200 and every one of them was counted: a
        // request lost in the shutdown after the service took it would show here as one too many.
        counted.Should().Be(load.Ok * Flags, "the evaluations of every answered request are flushed on shutdown, and no unanswered one was evaluated");
    }

    // Keep-alive clients, as an SDK or a proxy keeps them. Any answer but 200 is a failure, and so is
    // any transport error before SIGTERM. After it, a request that cannot connect, or that meets an
    // idle keep-alive connection as the server closes it, was not accepted: the analytics check above
    // proves that the service evaluated none of those.
    private sealed class Load
    {
        private long _ok;
        private long _refused;
        private long _unanswered;
        private volatile bool _terminating;
        public long Ok => Interlocked.Read(ref _ok);
        public long Refused => Interlocked.Read(ref _refused);
        public long Unanswered => Interlocked.Read(ref _unanswered);

        public void Terminating() => _terminating = true;
        public System.Collections.Concurrent.ConcurrentQueue<string> Failures { get; } = new();

        public async Task RunAsync(int port, string key, int worker, CancellationToken stop)
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await ProductionProcessTests.Evaluate(client, key, $$"""{"user_id":"w{{worker}}-{{n++}}"}""");
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        await response.Content.ReadAsStringAsync(stop);
                        Interlocked.Increment(ref _ok);
                    }
                    else
                    {
                        Failures.Enqueue($"status {(int)response.StatusCode}");
                    }
                }
                catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
                {
                    Interlocked.Increment(ref _refused);
                    await Task.Delay(20, CancellationToken.None);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (HttpRequestException) when (_terminating)
                {
                    Interlocked.Increment(ref _unanswered);
                }
                catch (Exception e)
                {
                    Failures.Enqueue($"{e.GetType().Name}: {e.Message}");
                }
            }
        }
    }
}
