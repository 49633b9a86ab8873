using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace FlagService.Infrastructure.Http;

public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimiting";
    public const string AuthPolicy = "auth";
    public const string OfrepPolicy = "ofrep";

    [Range(1, 1_000_000)]
    public int AuthPermitLimit { get; set; } = 10;

    [Range(1, 86_400)]
    public int AuthWindowSeconds { get; set; } = 60;

    // OFREP calls per SDK key (or client address without one) and window.
    [Range(1, 10_000_000)]
    public int OfrepPermitLimit { get; set; } = 1000;

    [Range(1, 86_400)]
    public int OfrepWindowSeconds { get; set; } = 1;
}

public static class RateLimits
{
    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<RateLimitOptions>()
            .BindConfiguration(RateLimitOptions.SectionName)
            .ValidateDataAnnotations();

        builder.Services.AddRateLimiter(limiter =>
        {
            // Login and register: a fixed window per client address, against password guessing.
            limiter.AddPolicy(RateLimitOptions.AuthPolicy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.AuthPermitLimit,
                    Window = TimeSpan.FromSeconds(options.AuthWindowSeconds),
                    QueueLimit = 0,
                });
            });

            // OFREP: a fixed window per SDK key, so that one misbehaving application cannot starve the others.
            limiter.AddPolicy(RateLimitOptions.OfrepPolicy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                var partition = FlagService.Features.Ofrep.OfrepEndpoints.SdkKey(context.Request)
                                ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.OfrepPermitLimit,
                    Window = TimeSpan.FromSeconds(options.OfrepWindowSeconds),
                    QueueLimit = 0,
                });
            });

            limiter.OnRejected = async (rejected, ct) =>
            {
                var http = rejected.HttpContext;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? (int)Math.Ceiling(wait.TotalSeconds)
                    : http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.AuthWindowSeconds;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = Math.Max(1, retryAfter).ToString(CultureInfo.InvariantCulture);
                await Results.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many requests",
                    detail: $"Rate limit exceeded; retry after {Math.Max(1, retryAfter)} seconds.").ExecuteAsync(http);
            };
        });
        return builder;
    }
}
