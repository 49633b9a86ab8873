using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Cors.Infrastructure;

namespace FlagService.Infrastructure.Http;

public sealed class CorsSettings
{
    public const string SectionName = "Cors";
    public const string SdkPolicy = "sdk";
    public const string ManagementPolicy = "management";
    public const string ServerPolicy = "server";

    // Browser applications call the SDK endpoints directly; the management API is closed by default.
    public string[] SdkOrigins { get; set; } = ["*"];
    public string[] ManagementOrigins { get; set; } = [];
}

// An endpoint's own body limit, where the defaults below are too small (segment lists).
public sealed class BodyLimit(long bytes) : IRequestSizeLimitMetadata
{
    public long? MaxRequestBodySize => bytes;
}

public static class HttpConventions
{
    public const int ManagementBodyLimit = 64 * 1024;
    public const int SdkBodyLimit = 32 * 1024;
    public const string UnsupportedMediaTypeDetail = "The request body must be JSON, sent with Content-Type: application/json.";

    public static WebApplicationBuilder AddHttpConventions(this WebApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(o => Configure(o.SerializerOptions));

        // Binding failures (malformed JSON, wrong types, bad ids, wrong content type) are thrown as
        // BadHttpRequestException so that BadRequestHandler can say which field broke which rule.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestHandler>();
        builder.Services.AddExceptionHandler<UnexpectedErrorHandler>();

        var cors = builder.Configuration.GetSection(CorsSettings.SectionName).Get<CorsSettings>() ?? new CorsSettings();
        builder.Services.AddCors(o =>
        {
            o.AddPolicy(CorsSettings.SdkPolicy, p => Allow(p, cors.SdkOrigins)
                .WithHeaders("X-SDK-Key", "X-API-Key", "Authorization", "Content-Type", "If-None-Match")
                .WithExposedHeaders("ETag", "Retry-After")
                .WithMethods("GET", "POST"));
            // No origin at all: a browser's preflight for the server-key routes gets no grant.
            o.AddPolicy(CorsSettings.ServerPolicy, _ => { });
            o.AddPolicy(CorsSettings.ManagementPolicy, p => Allow(p, cors.ManagementOrigins)
                .AllowAnyHeader().AllowAnyMethod());
        });
        return builder;
    }

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        // "50" is not an integer: wrong types are a 400, not silently coerced.
        options.NumberHandling = JsonNumberHandling.Strict;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        // {"name": "a", "name": "b"} would silently keep the last value: a 400 instead.
        options.AllowDuplicateProperties = false;
        return options;
    }

    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        app.UseMiddleware<RequestLogging>();
        return app;
    }

    // The management API's conventions; /sdk and /ofrep have their own (SdkPipeline).
    public static WebApplication UseHttpConventions(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use((context, next) => LimitBodySize(context, next, ManagementBodyLimit, bufferJson: true));
        app.UseCors();
        return app;
    }

    private static CorsPolicyBuilder Allow(CorsPolicyBuilder policy, string[] origins) =>
        origins.Contains("*") ? policy.AllowAnyOrigin() : policy.WithOrigins(origins);

    // The endpoint's own limit (BodyLimit), else the pipeline's. With bufferJson, a body bound as
    // JSON is kept in memory as it is read, so that BadRequestHandler can read it again to say
    // which field broke which rule; the management API's bodies are small and its calls rare. The
    // SDK pipeline does not buffer: its hot path reads the body itself.
    internal static Task LimitBodySize(HttpContext context, RequestDelegate next, long pipelineLimit, bool bufferJson = false)
    {
        var endpoint = context.GetEndpoint();
        var limit = endpoint?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? pipelineLimit;

        if (context.Request.ContentLength > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return Results.Problem(
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Request body too large",
                detail: $"The request body must be at most {limit} bytes.").ExecuteAsync(context);
        }

        // Bodies without Content-Length (chunked) are cut off by the server at the same limit.
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = limit;
        }
        if (bufferJson && endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType is not null
            && context.Request.ContentLength is null or > 0)
        {
            context.Request.EnableBuffering(bufferThreshold: (int)Math.Min(limit, int.MaxValue));
        }
        return next(context);
    }
}
