using Microsoft.Extensions.Logging.Console;

namespace FlagService.Infrastructure.Observability;

public static class Logging
{
    // Logging__Console__FormatterName=json selects the built-in JSON formatter (one object per line).
    // Its lines carry the request's scope, and with it the W3C TraceId and SpanId that problem
    // details also return as trace_id, so that one failing request can be found in the logs.
    public static WebApplicationBuilder AddStructuredLogging(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });
        return builder;
    }
}
