using FlagService.Features.Analytics;
using FlagService.Features.Evaluation;

namespace FlagService.Features.Sdk.Events;

public static class ReportEvents
{
    public const int MaxCounts = 10_000;

    // One batch of evaluation counts from an in-process client: how often each flag served which
    // variant for which reason since the last batch.
    public sealed record EventsRequest(IReadOnlyList<EvaluationCount>? Counts);

    public sealed record EvaluationCount(string? Flag, string? Variant, string? Reason, long Count);

    public sealed record EventsResponse(long Recorded);

    public static RouteHandlerBuilder MapReportEvents(this IEndpointRouteBuilder sdk) =>
        sdk.MapPost("/events", HandleAsync).WithName(nameof(ReportEvents))
            .RequireCors(Infrastructure.Http.CorsSettings.ServerPolicy)
            .Accepts<EventsRequest>("application/json")
            .Produces<EventsResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

    // Server keys only: an sdk key is public, and anyone holding it could inflate the statistics.
    // The batch is checked whole before anything is counted, so a rejected batch counts nothing.
    internal static async Task<IResult> HandleAsync(EventsRequest request, HttpContext http, SnapshotStore store, EvaluationRecorder recorder)
    {
        var (snapshot, problem) = await SdkEndpoints.ResolveServerAsync(http.Request, store);
        if (snapshot is null)
        {
            return problem!;
        }
        var counts = request.Counts ?? [];
        var (errors, resolved) = Resolve(snapshot, counts);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        foreach (var (index, outcome, count) in resolved)
        {
            recorder.RecordCount(snapshot, index, outcome, count);
        }
        return TypedResults.Accepted((string?)null, new EventsResponse(resolved.Sum(r => r.Count)));
    }

    internal static (Dictionary<string, string[]> Errors, List<(int Index, ushort Outcome, long Count)> Resolved) Resolve(
        EnvironmentSnapshot snapshot, IReadOnlyList<EvaluationCount> counts)
    {
        var errors = new Dictionary<string, string[]>();
        var resolved = new List<(int, ushort, long)>(counts.Count);
        if (counts.Count > MaxCounts)
        {
            errors["counts"] = [$"A batch holds at most {MaxCounts} counts."];
            return (errors, resolved);
        }
        for (var i = 0; i < counts.Count; i++)
        {
            var c = counts[i];
            var field = $"counts[{i}]";
            if (c is null || c.Flag is null || !snapshot.IndexByKey.TryGetValue(c.Flag, out var index))
            {
                errors[$"{field}.flag"] = ["No flag with this key exists in the environment."];
                continue;
            }
            var variant = Array.IndexOf(snapshot.Flags[index].Variants, c.Variant);
            if (variant < 0)
            {
                errors[$"{field}.variant"] = [$"The flag has no variant '{c.Variant}'."];
            }
            var reason = Enum.GetValues<EvaluationReason>().Where(r => r.ToWire() == c.Reason).Cast<EvaluationReason?>().FirstOrDefault();
            if (reason is null)
            {
                errors[$"{field}.reason"] = ["Unknown reason."];
            }
            if (c.Count is < 1 or > 1_000_000_000)
            {
                errors[$"{field}.count"] = ["The count must be between 1 and 1000000000."];
            }
            if (variant >= 0 && reason is not null && c.Count is >= 1 and <= 1_000_000_000)
            {
                resolved.Add((index, Outcome.Of(reason.Value, variant), c.Count));
            }
        }
        return (errors, resolved);
    }
}
