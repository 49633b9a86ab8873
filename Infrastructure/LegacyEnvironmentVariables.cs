namespace FlagService.Infrastructure;

public static class LegacyEnvironmentVariables
{
    // Other feature-flag servers are configured with DATABASE_URL, JWT_SECRET and PORT. They are
    // honoured as fallbacks: the ASP.NET names (ConnectionStrings__Postgres, Jwt__Secret, ...) win.
    public static WebApplicationBuilder AddLegacyEnvironmentVariables(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var fallbacks = new Dictionary<string, string?>();

        if (string.IsNullOrWhiteSpace(config.GetConnectionString("Postgres")) &&
            !string.IsNullOrWhiteSpace(config["DATABASE_URL"]))
        {
            fallbacks["ConnectionStrings:Postgres"] = PostgresUrl.ToConnectionString(config["DATABASE_URL"]!);
        }

        if (string.IsNullOrWhiteSpace(config["Jwt:Secret"]) && !string.IsNullOrWhiteSpace(config["JWT_SECRET"]))
        {
            fallbacks["Jwt:Secret"] = config["JWT_SECRET"];
        }

        if (fallbacks.Count > 0)
        {
            config.AddInMemoryCollection(fallbacks);
        }

        if (int.TryParse(config["PORT"], out var port) && port is > 0 and < 65536)
        {
            builder.WebHost.UseUrls($"http://+:{port}");
        }

        return builder;
    }
}
