using Microsoft.Extensions.Logging.Console;

namespace FlagService.Infrastructure.Observability;

public static class Logging
{
    // Categories that are quiet unless the configuration names them: Npgsql logs every statement
    // it runs at Information (an idle service's background queries alone made ~200 KB a minute),
    // and ASP.NET Core logs several lines per request there, beside RequestLogging's one. Set in
    // code, not only in appsettings.json, so that they hold in every environment and whatever the
    // working folder; Logging__LogLevel__Npgsql=Information brings the statements back.
    private static readonly (string Category, LogLevel Level)[] QuietByDefault =
    [
        ("Npgsql", LogLevel.Warning),
        ("Microsoft.AspNetCore", LogLevel.Warning),
    ];

    // Logging__Console__FormatterName=json selects the built-in JSON formatter (one object per line).
    // Its lines carry the request's scope, and with it the W3C TraceId and SpanId that problem
    // details also return as trace_id, so that one failing request can be found in the logs.
    public static WebApplicationBuilder AddStructuredLogging(this WebApplicationBuilder builder)
    {
        foreach (var (category, level) in QuietByDefault)
        {
            if (builder.Configuration[$"Logging:LogLevel:{category}"] is null)
            {
                builder.Logging.AddFilter(category, level);
            }
        }

        // The slim builder sets the simple formatter after reading the configuration: the
        // configured one is put back.
        var formatter = builder.Configuration["Logging:Console:FormatterName"];
        if (!string.IsNullOrEmpty(formatter))
        {
            builder.Services.PostConfigure<ConsoleLoggerOptions>(o => o.FormatterName = formatter);
        }
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });
        return builder;
    }
}
