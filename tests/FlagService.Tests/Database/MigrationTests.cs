using System.Diagnostics;
using Dapper;
using DbUp;
using FlagService.Infrastructure.Database;
using FlagService.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace FlagService.Tests.Database;

public sealed class MigrationTests
{
    [Fact]
    public async Task Migrations_applied_to_an_empty_database_leave_nothing_pending()
    {
        await using var database = await TestDatabase.CreateAsync();

        Migrations.Apply(database.ConnectionString, NullLogger.Instance);

        var upgrader = DeployChanges.To.PostgresqlDatabase(database.ConnectionString)
            .WithScriptsEmbeddedInAssembly(typeof(Migrations).Assembly)
            .JournalToPostgresqlTable("public", "schemaversions")
            .Build();
        upgrader.IsUpgradeRequired().Should().BeFalse();
        upgrader.GetScriptsToExecute().Should().BeEmpty();
    }

    [Fact]
    public async Task Migrations_started_concurrently_and_again_are_applied_once()
    {
        await using var database = await TestDatabase.CreateAsync();

        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => Migrations.Apply(database.ConnectionString, NullLogger.Instance))));
        Migrations.Apply(database.ConnectionString, NullLogger.Instance);

        await using var db = new NpgsqlConnection(database.ConnectionString);
        var journal = (await db.QueryAsync<string>("SELECT scriptname FROM schemaversions")).ToList();
        journal.Should().OnlyHaveUniqueItems();
        journal.Should().HaveCount(typeof(Migrations).Assembly.GetManifestResourceNames().Count(n => n.EndsWith(".sql", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task App_restarted_on_a_migrated_database_starts_and_serves()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using (var first = new FlagServiceFactory(database.ConnectionString))
        {
            (await first.CreateClient().PostJsonAsync("/auth/register", new { email = Api.UniqueEmail(), password = "password1" }))
                .EnsureSuccessStatusCode();
        }

        await using var second = new FlagServiceFactory(database.ConnectionString);
        (await second.CreateClient().GetAsync("/health")).EnsureSuccessStatusCode();
        await using var db = new NpgsqlConnection(database.ConnectionString);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM users")).Should().Be(1);
    }

    [Fact]
    public async Task Service_with_unreachable_database_refuses_to_start_with_one_line()
    {
        var start = ServiceProcess.Command(new ProcessStartInfo
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment =
            {
                ["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z;Timeout=3",
                ["Jwt__Secret"] = FlagServiceFactory.JwtSecret,
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
            },
        });
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var exited = process.WaitForExit(TimeSpan.FromSeconds(60));
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
        }

        exited.Should().BeTrue();
        process.ExitCode.Should().Be(1);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle().Which.Should().StartWith("FlagService cannot start:");
    }

    [Fact]
    public async Task Service_without_jwt_secret_refuses_to_start()
    {
        await using var database = await TestDatabase.CreateAsync();
        var start = ServiceProcess.Command(new ProcessStartInfo
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment =
            {
                ["ConnectionStrings__Postgres"] = database.ConnectionString,
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
            },
        });
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit(TimeSpan.FromSeconds(60)).Should().BeTrue();
        process.ExitCode.Should().Be(1);
        (await stderr).Should().Contain("Jwt:Secret (or JWT_SECRET) must be");
    }
}
