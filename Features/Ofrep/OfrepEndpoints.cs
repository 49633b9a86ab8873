using System.Text.Json;
using FlagService.Features.Evaluation;
using FlagService.Features.Ofrep.EvaluateAll;
using FlagService.Features.Ofrep.EvaluateFlag;
using FlagService.Features.Sdk;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Ofrep;

public static class OfrepEndpoints
{
    public const string ApiKeyHeader = "X-API-Key";

    public static IEndpointRouteBuilder MapOfrep(this IEndpointRouteBuilder app)
    {
        var ofrep = app.MapGroup("/ofrep/v1/evaluate").WithTags("OpenFeature (OFREP)")
            .AllowAnonymous()
            .RequireCors(CorsSettings.SdkPolicy)
            .RequireRateLimiting(RateLimitOptions.OfrepPolicy)
            .WithMetadata(new SdkKeyRequiredAttribute());
        ofrep.MapEvaluateFlag();
        ofrep.MapEvaluateAll();
        return app;
    }

    // The SDK key from X-API-Key, or Authorization: Bearer.
    public static string? SdkKey(HttpRequest request) => SdkEndpoints.Key(request, ApiKeyHeader);

    // Authenticates, then parses the body and maps the context. Either a snapshot, context and the
    // parsed document (kept alive while its elements are in use), or the response to send.
    public static async Task<(EnvironmentSnapshot? Snapshot, EvaluationContext Context, JsonDocument? Body, IResult? Failure)> ReadAsync(
        HttpContext http, SnapshotStore store, string? flagKey)
    {
        var (snapshot, problem) = await SdkEndpoints.ResolveAsync(SdkKey(http.Request), store);
        if (snapshot is null)
        {
            return (null, default, null, problem);
        }

        JsonDocument? body = null;
        try
        {
            if (http.Request.ContentLength != 0)
            {
                using var buffer = new MemoryStream();
                await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
                if (buffer.Length > 0)
                {
                    body = JsonDocument.Parse(buffer.ToArray());
                }
            }
        }
        catch (JsonException e)
        {
            return (null, default, null, Ofrep.Failure(400, flagKey, "PARSE_ERROR", Infrastructure.Http.JsonBodyProblem.NotJson(e.LineNumber ?? 0, e.BytePositionInLine ?? 0).Detail));
        }

        var invalid = Ofrep.ReadContext(body?.RootElement ?? default, out var context);
        if (invalid is not null)
        {
            body?.Dispose();
            return (null, default, null, Ofrep.Failure(400, flagKey, "INVALID_CONTEXT", invalid));
        }
        return (snapshot, context, body, null);
    }
}
