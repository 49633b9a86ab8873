using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace FlagService.Infrastructure.Observability;

public sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    // When set, /metrics answers only on this port (which the service then also listens on) and
    // that port answers nothing else: the scrape stays off the public listener.
    [Range(1, 65535)]
    public int? Port { get; set; }

    // When set, a scrape must send "Authorization: Bearer <token>".
    [MinLength(16)]
    public string? Token { get; set; }
}

public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    // OpenTelemetry's SDK and Prometheus exporter: ASP.NET Core and Kestrel already publish their
    // instruments (http.server.request.duration, by route template, never by raw path); the exporter
    // only aggregates what these meters report.
    public static WebApplicationBuilder AddMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<MetricsOptions>()
            .BindConfiguration(MetricsOptions.SectionName)
            .ValidateDataAnnotations();
        builder.Services.AddSingleton<FlagServiceMetrics>();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("flagservice"))
            .WithMetrics(metrics => metrics
            .AddMeter(FlagServiceMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime", "Npgsql")
            .AddView(instrument => new MetricStreamConfiguration { CardinalityLimit = CardinalityLimit(instrument) })
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));

        var port = builder.Configuration.GetSection(MetricsOptions.SectionName).GetValue<int?>(nameof(MetricsOptions.Port));
        if (port is > 0 and < 65536)
        {
            builder.WebHost.UseUrls($"{ServiceUrls(builder.WebHost)};http://+:{port}");
        }
        return builder;
    }

    // The SDK preallocates every instrument's points up to its limit (2 000 by default: 150 KiB per
    // instrument, about 7 MiB for this service's ~50). Two instruments have many combinations:
    // requests by route, method and status, and evaluations by reason and variant key; beyond a
    // limit the rest is still counted, in one point labelled otel_metric_overflow="true".
    private static int CardinalityLimit(System.Diagnostics.Metrics.Instrument instrument) =>
        instrument.Name is "http.server.request.duration" or "flagservice.evaluations" ? 1000 : 100;

    // Before every other route's middleware (the SDK pipeline's too): the metrics port answers
    // nothing but /metrics, and /metrics nowhere else.
    public static WebApplication UseMetricsGuard(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (options.Port is not null || options.Token is not null)
        {
            var expected = options.Token is null ? null : Encoding.UTF8.GetBytes($"Bearer {options.Token}");
            app.Use((context, next) => Guard(context, next, options.Port, expected));
        }
        return app;
    }

    public static WebApplication MapMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(Path).WithTags("Operations");
        return app;
    }

    // The URLs the service listens on without the metrics port, as Kestrel would have chosen them.
    private static string ServiceUrls(ConfigureWebHostBuilder host)
    {
        var urls = host.GetSetting(WebHostDefaults.ServerUrlsKey);
        if (!string.IsNullOrWhiteSpace(urls))
        {
            return urls;
        }
        var ports = host.GetSetting(WebHostDefaults.HttpPortsKey);
        return string.IsNullOrWhiteSpace(ports)
            ? "http://localhost:5000"
            : string.Join(';', ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://+:{p}"));
    }

    private static Task Guard(HttpContext context, RequestDelegate next, int? port, byte[]? expected)
    {
        var isMetrics = context.Request.Path.Equals(Path, StringComparison.OrdinalIgnoreCase);
        if (port is not null && (context.Connection.LocalPort == port) != isMetrics)
        {
            return Problem(context, StatusCodes.Status404NotFound, "Not Found", null);
        }
        if (isMetrics && expected is not null && !Authorized(context.Request.Headers.Authorization.ToString(), expected))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Problem(context, StatusCodes.Status401Unauthorized, "Unauthorized", "Scraping /metrics needs the configured token (Authorization: Bearer <Metrics__Token>).");
        }
        return next(context);
    }

    // Fixed-time comparison: the token must not leak through response timing.
    private static bool Authorized(string header, byte[] expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), expected);

    private static Task Problem(HttpContext context, int status, string title, string? detail)
    {
        context.Response.StatusCode = status;
        return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
    }
}
