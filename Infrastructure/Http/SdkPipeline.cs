using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace FlagService.Infrastructure.Http;

// /sdk and /ofrep are the hot path: applications call them thousands of times a second with an SDK
// key, never with a session. Their requests leave the main pipeline here, after routing and request
// logging, and run only what they need: problem details for exceptions, the SDK body limit, CORS
// when a browser sends an Origin, OFREP's per-key rate limit, and the endpoint. The management
// API's middleware (status-code pages, authentication, authorization, its rate limits, the admin
// UI's static files) never sees them.
public static class SdkPipeline
{
    public static WebApplication UseSdkPipeline(this WebApplication app)
    {
        var statusPages = app.Services.GetRequiredService<IOptions<StatusCodePagesOptions>>().Value;
        app.MapWhen(IsSdk, sdk =>
        {
            sdk.UseExceptionHandler();
            sdk.Use((context, next) => HttpConventions.LimitBodySize(context, next, HttpConventions.SdkBodyLimit));
            sdk.UseWhen(context => context.Request.Headers.Origin.Count > 0, browser => browser.UseCors());
            sdk.UseWhen(context => context.Request.Path.StartsWithSegments("/ofrep"), ofrep => ofrep.UseRateLimiter());
            sdk.Run(context => RunEndpoint(context, statusPages));
        });
        return app;
    }

    public static bool IsSdk(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/sdk") || context.Request.Path.StartsWithSegments("/ofrep");

    // What the endpoint middleware and status-code pages do for the management API, for the one
    // endpoint routing chose: a 404 without one, and problem details for an error status sent
    // without a body (405 for a wrong method), written by the same handler as status-code pages.
    private static Task RunEndpoint(HttpContext context, StatusCodePagesOptions statusPages)
    {
        if (context.GetEndpoint()?.RequestDelegate is not { } endpoint)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return StatusPage(context, statusPages);
        }
        var running = endpoint(context);
        return running.IsCompletedSuccessfully ? StatusPage(context, statusPages) : StatusPageAfter(running, context, statusPages);
    }

    private static async Task StatusPageAfter(Task running, HttpContext context, StatusCodePagesOptions statusPages)
    {
        await running;
        await StatusPage(context, statusPages);
    }

    private static Task StatusPage(HttpContext context, StatusCodePagesOptions statusPages)
    {
        var response = context.Response;
        if (response.HasStarted || response.StatusCode is < 400 or >= 600
            || response.ContentLength.HasValue || !string.IsNullOrEmpty(response.ContentType))
        {
            return Task.CompletedTask;
        }
        return statusPages.HandleAsync(new StatusCodeContext(context, statusPages, _ => Task.CompletedTask));
    }
}
