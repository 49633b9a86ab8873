using System.Collections.Concurrent;
using Dapper;
using FlagService.Infrastructure.Database;
using Npgsql;

namespace FlagService.Infrastructure.Auth;

// Per user, the moment before which their JWTs no longer count (set by a password reset). Held in
// memory so that validating a JWT costs no query; every instance hears changes on a channel
// (Migrations/0010) and reloads everything when its listening connection (re)connects.
public sealed partial class SessionValidity(IConfiguration configuration, NpgsqlDataSource db, ILogger<SessionValidity> logger)
    : BackgroundService
{
    public const string Channel = "flagservice_sessions";
    public const string IssuedAtMsClaim = "iat_ms";

    private const string AllSql = "SELECT id, tokens_valid_after FROM users WHERE tokens_valid_after IS NOT NULL";
    private const string OneSql = "SELECT id, tokens_valid_after FROM users WHERE id = @Id";

    private readonly ConcurrentDictionary<Guid, DateTime> _validAfter = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Listening => _listening.Task;

    public bool IsRevoked(Guid userId, DateTime issuedAt) =>
        _validAfter.TryGetValue(userId, out var after) && issuedAt < after;

    // The instance that made the change knows it at once, before its own notification comes back.
    public void Set(Guid userId, DateTime validAfter) => _validAfter[userId] = validAfter;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A dedicated, unpooled connection: LISTEN is session state that a pool would reset.
        var connectionString = new NpgsqlConnectionStringBuilder(DatabaseSetup.ConnectionString(configuration))
        {
            Pooling = false,
            KeepAlive = 10,
        }.ConnectionString;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, e) =>
                {
                    if (Guid.TryParse(e.Payload, out var id))
                    {
                        _ = ReloadAsync(OneSql, new { Id = id }, stoppingToken);
                    }
                };
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                // Changes missed while not listening are in this full read.
                await ReloadAsync(AllSql, null, stoppingToken);
                _listening.TrySetResult();
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken))
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
                LogLost(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task ReloadAsync(string sql, object? args, CancellationToken ct)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            foreach (var (id, after) in await connection.QueryAsync<(Guid, DateTime?)>(new CommandDefinition(sql, args, cancellationToken: ct)))
            {
                if (after is { } value)
                {
                    _validAfter[id] = value;
                }
            }
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
        {
            LogLost(logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session revocations may be stale: {Reason}")]
    private static partial void LogLost(ILogger logger, string reason);
}
