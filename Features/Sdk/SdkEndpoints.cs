using FlagService.Features.Evaluation;
using FlagService.Features.Sdk.Evaluate;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Sdk;

public static class SdkEndpoints
{
    public const string KeyHeader = "X-SDK-Key";

    public static IEndpointRouteBuilder MapSdk(this IEndpointRouteBuilder app)
    {
        var sdk = app.MapGroup("/sdk/v1").WithTags("SDK")
            .AllowAnonymous()
            .RequireCors(CorsSettings.SdkPolicy)
            .WithMetadata(new SdkKeyRequiredAttribute());
        sdk.MapEvaluateFlags();
        return app;
    }

    // The environment behind an SDK key, from memory when warm. Null with a problem to send otherwise:
    // 401 for a missing or unknown key, 503 when the key is not cached and the database is down.
    public static async ValueTask<(EnvironmentSnapshot? Snapshot, IResult? Problem)> ResolveAsync(string? sdkKey, SnapshotStore store)
    {
        if (string.IsNullOrEmpty(sdkKey))
        {
            return (null, Unauthorized("No SDK key was sent."));
        }
        try
        {
            var snapshot = await store.FindAsync(sdkKey);
            return snapshot is null ? (null, Unauthorized("The SDK key is not valid.")) : (snapshot, null);
        }
        catch (SnapshotUnavailableException)
        {
            return (null, TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Service unavailable",
                detail: "The flag configuration cannot be loaded right now; retry shortly."));
        }
    }

    private static IResult Unauthorized(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Invalid SDK key", detail: detail);
}
