using System.Diagnostics;

namespace FlagService.Infrastructure.Http;

// One structured line per request: method, path, status, duration, client address (the proxy's
// X-Forwarded-For when it is trusted, see TrustedProxies) and the W3C trace id that a problem
// details body carries in trace_id, so that a user's error report leads to its line. Never
// headers, bodies or query strings, so passwords, tokens and SDK keys stay out of the logs. SDK
// calls log at Debug only: they are the hot path.
internal sealed partial class RequestLogging(RequestDelegate next, ILogger<RequestLogging> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var level = SdkPipeline.IsSdk(context) ? LogLevel.Debug : LogLevel.Information;
        // Not async unless logging: no state machine per request when nothing is written.
        return logger.IsEnabled(level) ? LogAsync(context, level) : next(context);
    }

    private async Task LogAsync(HttpContext context, LogLevel level)
    {
        var path = context.Request.Path;
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            Log(logger, level, context.Request.Method, path.Value ?? "", context.Response.StatusCode,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds, context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier);
        }
    }

    [LoggerMessage(Message = "{Method} {Path} responded {StatusCode} in {ElapsedMs:0.0} ms to {Client} (trace {TraceId})")]
    private static partial void Log(ILogger logger, LogLevel level, string method, string path, int statusCode, double elapsedMs, string client,
        string traceId);
}
