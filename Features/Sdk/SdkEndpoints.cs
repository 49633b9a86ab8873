using FlagService.Features.Evaluation;
using FlagService.Features.Sdk.Evaluate;
using FlagService.Features.Sdk.Events;
using FlagService.Features.Sdk.Ruleset;
using FlagService.Features.Sdk.Stream;
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
        sdk.MapGetRuleset();
        sdk.MapStreamChanges();
        sdk.MapReportEvents();
        return app;
    }

    // X-SDK-Key (OFREP: X-API-Key), or Authorization: Bearer (as OFREP clients send it).
    public static string? Key(HttpRequest request, string header = KeyHeader)
    {
        var key = request.Headers[header].ToString();
        if (key.Length > 0)
        {
            return key;
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
    }

    // As ResolveAsync, for routes only backends may call: 403 for an sdk key, and 403 for a server
    // key sent by a browser (any request with an Origin header): a secret seen in a page is leaked.
    public static async ValueTask<(EnvironmentSnapshot? Snapshot, IResult? Problem)> ResolveServerAsync(HttpRequest request, SnapshotStore store)
    {
        var key = Key(request);
        var (snapshot, problem) = await ResolveAsync(key, store);
        if (snapshot is null)
        {
            return (null, problem);
        }
        if (!snapshot.IsServerKey(key!))
        {
            return (null, Forbidden("This route needs the environment's server key (srv_...); an sdk key is for evaluation only."));
        }
        return request.Headers.Origin.Count > 0
            ? (null, Forbidden("Server keys are secret and are not accepted from browsers (the request carries an Origin header)."))
            : (snapshot, null);
    }

    public static IResult Forbidden(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Server key required", detail: detail);

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
