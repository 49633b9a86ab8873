using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlagService.Infrastructure.Observability;

public sealed class ShutdownOptions
{
    public const string SectionName = "Shutdown";

    // After SIGTERM, how long the instance keeps serving while /health/ready says 503, so that a load
    // balancer stops sending it traffic before its listener closes. 0 closes at once.
    [Range(0, 300)]
    public int DrainSeconds { get; set; }
}

// What /health/ready reports, set by the parts that know: start-up (migrations), the configuration
// listener, and the host's shutdown.
public sealed class Readiness
{
    private volatile bool _migrated;
    private volatile bool _listening;
    private volatile bool _stopping;

    public bool Migrated => _migrated;
    public bool Listening => _listening;
    public bool Stopping => _stopping;

    public void MigrationsApplied() => _migrated = true;
    public void ListenerConnected() => _listening = true;
    public void ListenerLost() => _listening = false;
    public void ShutdownStarted() => _stopping = true;
}

public static class HealthProbes
{
    public sealed record LiveResponse(string Status);

    public sealed record ReadyResponse(string Status, ReadyChecks Checks);

    public sealed record ReadyChecks(string Migrations, string Database, string ConfigurationListener, string Shutdown);

    public static WebApplicationBuilder AddHealthProbes(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<ShutdownOptions>()
            .BindConfiguration(ShutdownOptions.SectionName)
            .ValidateDataAnnotations();
        builder.Services.AddSingleton<Readiness>();
        builder.Services.AddHostedService<ShutdownDrain>();
        return builder;
    }

    public static IEndpointRouteBuilder MapHealthProbes(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Ok(new LiveResponse("alive")))
            .WithName("Liveness").WithTags("Health").AllowAnonymous();
        app.MapGet("/health/ready", ReadyAsync)
            .WithName("Readiness").WithTags("Health").AllowAnonymous()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    // Ready means: this instance can answer every request it may get, now and on the next config
    // change. 503 otherwise, so that a load balancer sends the traffic elsewhere.
    internal static async Task<Results<Ok<ReadyResponse>, ProblemHttpResult>> ReadyAsync(
        Readiness readiness, NpgsqlDataSource db, CancellationToken ct)
    {
        var reachable = await DatabasePing.IsReachableAsync(db, ct);
        var checks = new ReadyChecks(
            readiness.Migrated ? "ok" : "pending",
            reachable ? "ok" : "unreachable",
            readiness.Listening ? "ok" : "disconnected",
            readiness.Stopping ? "stopping" : "ok");
        if (readiness.Migrated && reachable && readiness.Listening && !readiness.Stopping)
        {
            return TypedResults.Ok(new ReadyResponse("ready", checks));
        }
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Not ready",
            detail: readiness.Stopping ? "The instance is shutting down." : "A dependency of this instance is not available.",
            extensions: new Dictionary<string, object?> { ["checks"] = checks });
    }

    // On SIGTERM: report not-ready first, then keep serving for DrainSeconds before the server stops
    // accepting; in-flight requests then finish and the analytics are flushed (AnalyticsFlusher).
    private sealed class ShutdownDrain(Readiness readiness, IOptions<ShutdownOptions> options) : IHostedLifecycleService
    {
        public async Task StoppingAsync(CancellationToken cancellationToken)
        {
            readiness.ShutdownStarted();
            var drain = TimeSpan.FromSeconds(options.Value.DrainSeconds);
            if (drain > TimeSpan.Zero)
            {
                await Task.Delay(drain, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

public static class DatabasePing
{
    // One round trip, bounded: a probe must answer even when PostgreSQL does not.
    public static async Task<bool> IsReachableAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await using var command = db.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return false;
        }
    }
}
