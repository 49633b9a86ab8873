using System.Buffers;
using System.Text.Json;
using FlagService.Features.Analytics;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Sdk.Evaluate;

public static class EvaluateFlags
{
    // Read by EvaluateRequestReader. custom_attributes stays one JSON object (one parse, no
    // dictionary); conditions look into it by name.
    public sealed record EvaluateRequest(string? UserId = null, string? UserEmail = null, JsonElement? CustomAttributes = null);

    public sealed record FlagEvaluation(bool Enabled, string Reason);

    // The two singletons are taken once here rather than per request: asking RequestServices for
    // them would create a DI scope for every call of the hot path.
    public static RouteHandlerBuilder MapEvaluateFlags(this IEndpointRouteBuilder sdk)
    {
        var store = sdk.ServiceProvider.GetRequiredService<SnapshotStore>();
        var recorder = sdk.ServiceProvider.GetRequiredService<EvaluationRecorder>();
        return sdk.MapPost("/evaluate", (Delegate)((HttpContext http) => HandleAsync(http, store, recorder))).WithName(nameof(EvaluateFlags))
            .Accepts<EvaluateRequest>("application/json")
            .Produces<Dictionary<string, FlagEvaluation>>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    private static readonly JsonEncodedText EnabledName = JsonEncodedText.Encode("enabled");
    private static readonly JsonEncodedText ReasonName = JsonEncodedText.Encode("reason");
    private static readonly JsonEncodedText[] Reasons =
        Enum.GetValues<EvaluationReason>().Select(r => JsonEncodedText.Encode(r.ToWire())).ToArray();

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    // The hot path: snapshot from memory, pure evaluation, counters in memory, one buffer copy.
    internal static async Task HandleAsync(HttpContext http, SnapshotStore store, EvaluationRecorder recorder)
    {
        var (snapshot, problem) = await SdkEndpoints.ResolveAsync(http.Request.Headers[SdkEndpoints.KeyHeader], store);
        if (snapshot is null)
        {
            await problem!.ExecuteAsync(http);
            return;
        }

        var (request, error, unsupported) = await EvaluateRequestReader.ReadAsync(http.Request, http.RequestAborted);
        if (unsupported || error is not null)
        {
            await (unsupported
                ? TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                    detail: HttpConventions.UnsupportedMediaTypeDetail)
                : error!.ToProblem()).ExecuteAsync(http);
            return;
        }

        var context = new EvaluationContext(request?.UserId, request?.UserEmail,
            request?.CustomAttributes is { } attributes ? new JsonAttributes(attributes) : null);
        var identifier = Identifiers.For(in context);
        var flags = snapshot.Flags;
        Span<byte> outcomes = flags.Length <= 512 ? stackalloc byte[flags.Length] : new byte[flags.Length];
        for (var i = 0; i < flags.Length; i++)
        {
            outcomes[i] = (byte)FlagCounters.Outcome(flags[i].Evaluate(in context, identifier));
        }
        recorder.Record(snapshot, outcomes, -1, identifier);

        WriteBody(http.Response, snapshot, outcomes);
        await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
    }

    // Serialises into a per-thread buffer, then copies into the response pipe before any await, so
    // that the buffer is never shared between requests.
    private static void WriteBody(HttpResponse response, ProjectSnapshot snapshot, ReadOnlySpan<byte> outcomes)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var json = t_writer ??= new Utf8JsonWriter(buffer);
        json.Reset(buffer);

        json.WriteStartObject();
        for (var i = 0; i < outcomes.Length; i++)
        {
            var (value, reason) = FlagCounters.Decode(outcomes[i]);
            json.WriteStartObject(snapshot.EncodedKeys[i]);
            json.WriteBoolean(EnabledName, value);
            json.WriteString(ReasonName, Reasons[(int)reason]);
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.Flush();

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        var target = response.BodyWriter.GetSpan(buffer.WrittenCount);
        buffer.WrittenSpan.CopyTo(target);
        response.BodyWriter.Advance(buffer.WrittenCount);
    }
}
