using FlagService.Infrastructure.Database;
using FlagService.Infrastructure.Observability;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlagService.Infrastructure;

public static class Startup
{
    // Refuses to start, with one clear line on stderr, when the database is unreachable, a migration
    // fails, a setting is invalid or a port is taken; otherwise serves until shut down.
    public static async Task<int> RunWithMigrationsAsync(this WebApplication app)
    {
        try
        {
            var connectionString = DatabaseSetup.ConnectionString(app.Configuration);
            Migrations.Apply(connectionString, app.Logger);
            app.Services.GetRequiredService<Readiness>().MigrationsApplied();
            await app.StartAsync();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or OptionsValidationException or IOException)
        {
            await Console.Error.WriteLineAsync($"FlagService cannot start: {OneLine(e)}");
            return 1;
        }

        await app.WaitForShutdownAsync();
        return 0;
    }

    private static string OneLine(Exception e)
    {
        var message = e is OptionsValidationException options ? string.Join("; ", options.Failures) : e.Message;
        if (e is NpgsqlException && e.InnerException is not null)
        {
            message = $"{message} ({e.InnerException.Message})";
        }
        return message.ReplaceLineEndings(" ");
    }
}
