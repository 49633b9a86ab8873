using Dapper;
using Npgsql;

namespace FlagService.Infrastructure.Database;

public static class DatabaseSetup
{
    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;

        // Resolved lazily so that configuration added after CreateBuilder (tests, DATABASE_URL) counts.
        builder.Services.AddSingleton(sp =>
        {
            var connectionString = ConnectionString(sp.GetRequiredService<IConfiguration>());
            var dataSource = new NpgsqlDataSourceBuilder(connectionString);
            // Minutes, hours and days of the analytics are UTC whatever the server's time zone.
            dataSource.ConnectionStringBuilder.Timezone ??= "UTC";
            // The pool's name labels its metrics (db.client.connection.*): a constant, not the connection string.
            dataSource.Name = "flagservice";
            dataSource.UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>());
            return dataSource.Build();
        });
        return builder;
    }

    public static string ConnectionString(IConfiguration configuration)
    {
        var value = configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                "No database configured: set ConnectionStrings__Postgres or DATABASE_URL (scripts/run.sh starts a local PostgreSQL for you).");
        }
        return value;
    }
}
