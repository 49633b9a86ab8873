using FlagService.Features.Analytics;
using FlagService.Features.Evaluation;

namespace FlagService.Features.Sdk.Events;

public static class ReportEvents
{
    public const int MaxCounts = 10_000;
    public const long MaxCount = 1_000_000_000;

    // One batch of evaluation counts from an in-process client: how often each flag served which
    // variant for which reason since the last batch.
    public sealed record EventsRequest(IReadOnlyList<EvaluationCount>? Counts);

    public sealed record EvaluationCount(string? Flag, string? Variant, string? Reason, long Count);

    public sealed record EventsResponse(long Recorded, long Skipped);

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
        var (errors, resolved, skipped) = Resolve(snapshot, counts);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        foreach (var (index, outcome, count) in resolved)
        {
            recorder.RecordCount(snapshot, index, outcome, count);
        }
        return TypedResults.Accepted((string?)null, new EventsResponse(resolved.Sum(r => r.Count), skipped));
    }

    internal static (Dictionary<string, string[]> Errors, List<(int Index, ushort Outcome, long Count)> Resolved, long Skipped) Resolve(
        EnvironmentSnapshot snapshot, IReadOnlyList<EvaluationCount> counts)
    {
        var errors = new Dictionary<string, string[]>();
        var resolved = new List<(int, ushort, long)>(counts.Count);
        var skipped = 0L;
        if (counts.Count > MaxCounts)
        {
            errors["counts"] = [$"A batch holds at most {MaxCounts} counts."];
            return (errors, resolved, skipped);
        }
        for (var i = 0; i < counts.Count; i++)
        {
            var c = counts[i];
            var field = $"counts[{i}]";
            if (string.IsNullOrEmpty(c?.Flag))
            {
                errors[$"{field}.flag"] = ["The flag key is required."];
                continue;
            }
            if (string.IsNullOrEmpty(c.Variant))
            {
                errors[$"{field}.variant"] = ["The variant key is required."];
            }
            var reason = Array.Find(Enum.GetValues<EvaluationReason>(), r => r.ToWire() == c.Reason);
            if (c.Reason is null || reason.ToWire() != c.Reason)
            {
                errors[$"{field}.reason"] = ["Unknown reason."];
            }
            if (c.Count is < 1 or > MaxCount)
            {
                errors[$"{field}.count"] = [$"The count must be between 1 and {MaxCount}."];
            }
            if (errors.Count > 0)
            {
                continue;
            }
            // A flag or variant deleted since the client evaluated it: nothing to count it into.
            // Skipped, not refused, so one stale entry does not lose the rest of the batch.
            var variant = snapshot.IndexByKey.TryGetValue(c.Flag, out var index) ? Array.IndexOf(snapshot.Flags[index].Variants, c.Variant) : -1;
            if (variant < 0)
            {
                skipped += c.Count;
                continue;
            }
            resolved.Add((index, Outcome.Of(reason, variant), c.Count));
        }
        return (errors, resolved, skipped);
    }
}
