using FlagService.Features.Analytics;
using FlagService.Features.Evaluation;

namespace FlagService.Features.Ofrep.EvaluateFlag;

public static class EvaluateFlag
{
    // {**key} also captures keys with slashes, so that they get FLAG_NOT_FOUND rather than a routing 404.
    public static RouteHandlerBuilder MapEvaluateFlag(this IEndpointRouteBuilder ofrep) =>
        ofrep.MapPost("/flags/{**key}", HandleAsync).WithName(nameof(EvaluateFlag))
            .Accepts<OfrepRequest>("application/json")
            .Produces<Ofrep.Evaluation>(StatusCodes.Status200OK)
            .Produces<Ofrep.Error>(StatusCodes.Status400BadRequest, "application/problem+json")
            .Produces<Ofrep.Error>(StatusCodes.Status404NotFound, "application/problem+json")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    internal static async Task<IResult> HandleAsync(string key, HttpContext http, SnapshotStore store, EvaluationRecorder recorder)
    {
        var (snapshot, context, body, failure) = await OfrepEndpoints.ReadAsync(http, store, key);
        if (snapshot is null)
        {
            return failure!;
        }
        using (body)
        {
            if (!snapshot.IndexByKey.TryGetValue(key, out var index))
            {
                return Ofrep.Failure(404, key, "FLAG_NOT_FOUND", $"The project has no flag '{key}'.");
            }

            var flag = snapshot.Flags[index];
            var identifier = Identifiers.For(in context);
            var outcomes = new ushort[snapshot.Flags.Length];
            Array.Fill(outcomes, EnvironmentSnapshot.Pending);
            var result = snapshot.Evaluate(index, in context, identifier, outcomes, new EvaluationResult[snapshot.Flags.Length]);
            // The caller gets its default value: nothing was served, so nothing is counted.
            if (result.IdentifierMissing)
            {
                return Ofrep.Failure(400, key, "TARGETING_KEY_MISSING", Ofrep.MissingKeyDetails(key));
            }

            recorder.RecordFlag(snapshot, index, Outcome.Of(result), in context, identifier);
            return TypedResults.Json(Ofrep.Describe(flag, result), Ofrep.Json);
        }
    }
}

// The request body, for the OpenAPI document: {"context": {"targetingKey": "...", ...}}.
public sealed record OfrepRequest(Dictionary<string, object?>? Context);
