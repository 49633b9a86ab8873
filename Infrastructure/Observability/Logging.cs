using Microsoft.Extensions.Logging.Console;

namespace FlagService.Infrastructure.Observability;

public static class Logging
{
    // Logging__Console__FormatterName=json selects the built-in JSON formatter (one object per line).
    // Its lines carry the request's scope, and with it the W3C TraceId and SpanId that problem
    // details also return as trace_id, so that one failing request can be found in the logs.
    public static WebApplicationBuilder AddStructuredLogging(this WebApplicationBuilder builder)
    {
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
