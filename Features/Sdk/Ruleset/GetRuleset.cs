using FlagService.Features.Evaluation;
using FlagService.Features.Ofrep.EvaluateAll;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Sdk.Ruleset;

public static class GetRuleset
{
    public static RouteHandlerBuilder MapGetRuleset(this IEndpointRouteBuilder sdk) =>
        sdk.MapGet("/ruleset", HandleAsync).WithName(nameof(GetRuleset))
            // Not callable from pages: the policy grants no origin, and the handler refuses an Origin.
            .RequireCors(CorsSettings.ServerPolicy)
            .Produces<Evaluation.Ruleset>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    // Served from the snapshot's bytes, serialized once per configuration: a warm request reads
    // neither the database nor the serializer. The ETag is the version.
    internal static async Task<IResult> HandleAsync(
        HttpContext http, SnapshotStore store)
    {
        var (snapshot, problem) = await SdkEndpoints.ResolveServerAsync(http.Request, store);
        if (snapshot is null)
        {
            return problem!;
        }
        var ruleset = snapshot.Ruleset;
        http.Response.Headers.ETag = ruleset.ETag;
        http.Response.Headers.CacheControl = "no-cache";
        return EvaluateAll.Matches(http.Request.Headers.IfNoneMatch, ruleset.ETag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Bytes(ruleset.Json, "application/json");
    }
}
