using Npgsql;
using Testcontainers.PostgreSql;

namespace FlagService.Tests.Infrastructure;

// The PostgreSQL server the tests run against: the one scripts/test.sh started (its connection
// string in FLAGSERVICE_TEST_POSTGRES), or else a Testcontainers container when Docker is reachable.
public static class PostgresServer
{
    public const string EnvironmentVariable = "FLAGSERVICE_TEST_POSTGRES";

    private static readonly Lazy<Task<string>> AdminConnection = new(StartAsync);

    public static Task<string> AdminConnectionStringAsync() => AdminConnection.Value;

    private static async Task<string> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        try
        {
            var container = new PostgreSqlBuilder("postgres:15-alpine").Build();
            await container.StartAsync();
            return container.GetConnectionString();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL for the tests: run scripts/test.sh (it starts one), set {EnvironmentVariable}, or start Docker. ({e.Message})", e);
        }
    }
}

// One throwaway database, created for a test class and dropped after it.
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _admin;

    private TestDatabase(string admin, string name, string connectionString)
    {
        _admin = admin;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        var admin = await PostgresServer.AdminConnectionStringAsync();
        var name = $"flagservice_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        return new TestDatabase(admin, name, connectionString);
    }

    // Simulates the server going away for this database only: new connections are refused and the
    // open ones are cut, as when PostgreSQL stops. Restore with AllowConnectionsAsync.
    public async Task RefuseConnectionsAsync()
    {
        await AdminAsync($"ALTER DATABASE \"{Name}\" ALLOW_CONNECTIONS false");
        await AdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{Name}'");
    }

    public Task AllowConnectionsAsync() => AdminAsync($"ALTER DATABASE \"{Name}\" ALLOW_CONNECTIONS true");

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await AdminAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    private async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
