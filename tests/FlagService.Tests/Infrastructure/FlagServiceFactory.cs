using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FlagService.Tests.Infrastructure;

// The real app, in memory, against a real database; in the hosting environment `environment`
// (Testing unless a test is about what Production or Development do differently).
public sealed class FlagServiceFactory(string connectionString, IReadOnlyDictionary<string, string?>? overrides = null,
    Action<IServiceCollection>? services = null, string environment = "Testing")
    : WebApplicationFactory<Program>
{
    public const string JwtSecret = "test-secret-that-is-at-least-32-bytes-long!";

    // Evaluation tests rely on the LISTEN connection: the app drops its snapshots when it connects.
    public Task ListeningAsync() =>
        Services.GetRequiredService<FlagService.Features.Evaluation.ConfigurationListener>().Listening.WaitAsync(TimeSpan.FromSeconds(30));

    // Returns once this instance's listener has handled every NOTIFY committed before the call:
    // PostgreSQL delivers notifications in commit order, so a marker sent now arrives after them.
    // (Instead of sleeping "long enough" for the app's own writes to come back and drop snapshots.)
    public async Task NotificationsHandledAsync()
    {
        var marker = Guid.NewGuid();
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Services.GetRequiredService<FlagService.Features.Evaluation.ProjectChanges>()
            .Subscribe(id => { if (id == marker) heard.TrySetResult(); }, () => { });
        await using (var db = new Npgsql.NpgsqlConnection(connectionString))
        {
            await db.OpenAsync();
            await using var notify = new Npgsql.NpgsqlCommand("SELECT pg_notify(@channel, @marker)", db);
            notify.Parameters.AddWithValue("channel", FlagService.Features.Evaluation.ConfigurationListener.Channel);
            notify.Parameters.AddWithValue("marker", marker.ToString());
            await notify.ExecuteNonQueryAsync();
        }
        await heard.Task.WaitAsync(Eventually.Patience);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        builder.ConfigureAppConfiguration((_, config) =>
        {
            var settings = new Dictionary<string, string?>
            {
                ["ConnectionStrings:Postgres"] = connectionString,
                ["Jwt:Secret"] = JwtSecret,
                // Cheap hashes keep the suite fast; PasswordHasherTests cover the production cost.
                ["PasswordHashing:MemoryKiB"] = "1024",
                ["PasswordHashing:Iterations"] = "1",
                ["RateLimiting:AuthPermitLimit"] = "100000",
                ["Logging:LogLevel:Default"] = "Warning",
                ["Analytics:FlushIntervalMilliseconds"] = "200",
            };
            foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            {
                settings[key] = value;
            }
            config.AddInMemoryCollection(settings);
        });
        if (services is not null)
        {
            builder.ConfigureServices(services);
        }
    }
}

// A database and an app for one test class; dropped when the class is done.
public class AppFixture : IAsyncLifetime
{
    private TestDatabase? _database;
    private FlagServiceFactory? _factory;

    public TestDatabase Database => _database ?? throw new InvalidOperationException("Not initialised.");
    public FlagServiceFactory Factory => _factory ?? throw new InvalidOperationException("Not initialised.");
    public string ConnectionString => Database.ConnectionString;

    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    public virtual HttpClient CreateClient() => Factory.CreateClient();

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _factory = new FlagServiceFactory(_database.ConnectionString, Settings, ConfigureServices);
        _ = _factory.Server; // starts the app, which applies the migrations
        await _factory.ListeningAsync();
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
