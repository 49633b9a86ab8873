using System.Security.Cryptography;
using System.Text.Json;
using FlagService.Features.Analytics;
using FlagService.Features.Evaluation;
using FlagService.Features.Ofrep.EvaluateFlag;
using Microsoft.Net.Http.Headers;

namespace FlagService.Features.Ofrep.EvaluateAll;

public static class EvaluateAll
{
    public sealed record BulkResponse(Ofrep.Evaluation[] Flags, EventStream[]? EventStreams = null);

    // OFREP's event streams: where a web provider hears that its answers may have changed.
    public sealed record EventStream(string Type, string Url, int InactivityDelaySec);

    // How long a hidden page keeps its stream open before the provider closes it (its own default).
    public const int InactivityDelaySec = 120;

    public static RouteHandlerBuilder MapEvaluateAll(this IEndpointRouteBuilder ofrep) =>
        ofrep.MapPost("/flags", HandleAsync).WithName(nameof(EvaluateAll))
            .Accepts<OfrepRequest>("application/json")
            .Produces<BulkResponse>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .Produces<Ofrep.Error>(StatusCodes.Status400BadRequest, "application/problem+json")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    // The ETag is a digest of the answer itself: it changes exactly when some flag's answer for this
    // context changes (a configuration change that leaves the answers alone keeps it). A flag that
    // cannot be answered without a targeting key is an error entry; it never fails the whole request.
    internal static async Task<IResult> HandleAsync(HttpContext http, SnapshotStore store, EvaluationRecorder recorder)
    {
        var (snapshot, context, body, failure) = await OfrepEndpoints.ReadAsync(http, store, null);
        if (snapshot is null)
        {
            return failure!;
        }
        using (body)
        {
            var identifier = Identifiers.For(in context);
            var flags = snapshot.Flags;
            var entries = new Ofrep.Evaluation[flags.Length];
            var outcomes = new ushort[flags.Length];
            var served = new bool[flags.Length];
            var results = new EvaluationResult[flags.Length];
            Array.Fill(outcomes, EnvironmentSnapshot.Pending);
            for (var i = 0; i < flags.Length; i++)
            {
                var result = snapshot.Evaluate(i, in context, identifier, outcomes, results);
                served[i] = !result.IdentifierMissing;
                entries[i] = served[i]
                    ? Ofrep.Describe(flags[i], result)
                    : new Ofrep.Evaluation(flags[i].Key, ErrorCode: "TARGETING_KEY_MISSING", ErrorDetails: Ofrep.MissingKeyDetails(flags[i].Key));
            }

            var json = JsonSerializer.SerializeToUtf8Bytes(new BulkResponse(entries, EventStreams(http, snapshot)), Ofrep.Json);
            var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(json).AsSpan(0, 16))}\"";
            http.Response.Headers.ETag = etag;
            if (Matches(http.Request.Headers.IfNoneMatch, etag))
            {
                return TypedResults.StatusCode(StatusCodes.Status304NotModified);
            }

            Record(recorder, snapshot, outcomes, served, in context, identifier);
            return TypedResults.Bytes(json, "application/json");
        }
    }

    // Browsers' EventSource cannot send headers, so the stream URL carries the key: only an sdk key,
    // which is public anyway. Callers with a server key are backends and get no browser stream.
    private static EventStream[]? EventStreams(HttpContext http, EnvironmentSnapshot snapshot)
    {
        var key = OfrepEndpoints.SdkKey(http.Request);
        if (key is null || snapshot.IsServerKey(key))
        {
            return null;
        }
        var request = http.Request;
        var url = $"{request.Scheme}://{request.Host}{request.PathBase}/sdk/v1/stream?format=ofrep&key={Uri.EscapeDataString(key)}";
        return [new EventStream("sse", url, InactivityDelaySec)];
    }

    // Flags answered with an error entry were not served: the caller uses its default, so they are not counted.
    private static void Record(EvaluationRecorder recorder, EnvironmentSnapshot snapshot, ushort[] outcomes, bool[] served,
        in EvaluationContext context, string? identifier)
    {
        if (Array.TrueForAll(served, s => s))
        {
            recorder.Record(snapshot, outcomes, in context, identifier);
            return;
        }
        for (var i = 0; i < outcomes.Length; i++)
        {
            if (served[i])
            {
                recorder.RecordFlag(snapshot, i, outcomes[i], in context, identifier);
            }
        }
    }

    // If-None-Match: "*", or a list of entity tags, weak ones compared weakly (RFC 9110 13.1.2).
    internal static bool Matches(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, string etag)
    {
        if (ifNoneMatch.Count == 0 ||
            !EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags))
        {
            return false;
        }
        var current = new EntityTagHeaderValue(etag);
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(current, useStrongComparison: false));
    }
}
