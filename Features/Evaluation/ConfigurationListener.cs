using FlagService.Infrastructure.Database;
using FlagService.Infrastructure.Observability;
using Npgsql;

namespace FlagService.Features.Evaluation;

// LISTENs on 'flagservice_config' (see Migrations/0004) and invalidates the snapshots of the projects
// that other instances, or psql, changed. On every (re)connection it drops all snapshots: while it
// was not listening, notifications may have been missed.
public sealed partial class ConfigurationListener(
    IConfiguration configuration, ProjectChanges changes, ILogger<ConfigurationListener> logger,
    FlagServiceMetrics metrics, Readiness readiness) : BackgroundService
{
    public const string Channel = "flagservice_config";
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(10);
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Completes once the first LISTEN is in place (tests wait for it before relying on notifications).
    public Task Listening => _listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A dedicated, unpooled connection: LISTEN is session state that a pool would reset.
        var connectionString = new NpgsqlConnectionStringBuilder(DatabaseSetup.ConnectionString(configuration))
        {
            Pooling = false,
            KeepAlive = 10,
        }.ConnectionString;
        var delay = TimeSpan.FromMilliseconds(200);

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, e) =>
                {
                    if (Guid.TryParse(e.Payload, out var projectId))
                    {
                        changes.Publish(projectId);
                        metrics.ConfigurationChanged();
                    }
                };
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                changes.PublishEverythingChanged();
                _listening.TrySetResult();
                readiness.ListenerConnected();
                LogListening(logger);
                delay = TimeSpan.FromMilliseconds(200);

                while (!stoppingToken.IsCancellationRequested)
                {
                    // WaitAsync returns false when idle; a round trip then proves the link is alive.
                    if (!await connection.WaitAsync(IdleCheck, stoppingToken))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1", connection);
                        await ping.ExecuteScalarAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or IOException or TimeoutException)
            {
                readiness.ListenerLost();
                LogLost(logger, e.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for configuration changes")]
    private static partial void LogListening(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Configuration listener lost the database ({Reason}); retrying in {DelayMs} ms")]
    private static partial void LogLost(ILogger logger, string reason, double delayMs);
}
