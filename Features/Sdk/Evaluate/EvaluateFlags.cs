using System.Buffers;
using System.Text.Json;
using FlagService.Features.Analytics;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Sdk.Evaluate;

public static class EvaluateFlags
{
    // Read by EvaluateRequestReader, in either body shape: the flat v1 {user_id, user_email,
    // custom_attributes}, or {environment, context: {...}} (Enveloped), answered in the same shape.
    // custom_attributes stays one JSON object (one parse, no dictionary); conditions look into it by name.
    public sealed record EvaluateRequest(
        string? UserId = null, string? UserEmail = null, JsonElement? CustomAttributes = null,
        string? Environment = null, bool Enveloped = false);

    // `value` is the served variant's value (for boolean flags equal to `enabled`).
    public sealed record FlagEvaluation(bool Enabled, string Reason, string Variant, JsonElement Value);

    public sealed record EnvironmentEvaluation(string Environment, Dictionary<string, FlagEvaluation> Flags);

    // The two singletons are taken once here rather than per request: asking RequestServices for
    // them would create a DI scope for every call of the hot path.
    public static RouteHandlerBuilder MapEvaluateFlags(this IEndpointRouteBuilder sdk)
    {
        var store = sdk.ServiceProvider.GetRequiredService<SnapshotStore>();
        var recorder = sdk.ServiceProvider.GetRequiredService<EvaluationRecorder>();
        return sdk.MapPost("/evaluate", (Delegate)((HttpContext http) => HandleAsync(http, store, recorder))).WithName(nameof(EvaluateFlags))
            .Accepts<EvaluateRequest>("application/json")
            .Produces<Dictionary<string, FlagEvaluation>>(StatusCodes.Status200OK)
            .Produces<EnvironmentEvaluation>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    private static readonly JsonEncodedText EnabledName = JsonEncodedText.Encode("enabled");
    private static readonly JsonEncodedText ReasonName = JsonEncodedText.Encode("reason");
    private static readonly JsonEncodedText VariantName = JsonEncodedText.Encode("variant");
    private static readonly JsonEncodedText ValueName = JsonEncodedText.Encode("value");
    private static readonly JsonEncodedText EnvironmentName = JsonEncodedText.Encode("environment");
    private static readonly JsonEncodedText FlagsName = JsonEncodedText.Encode("flags");
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

        if (request?.Environment is { } named && named != snapshot.Key)
        {
            var (other, refused) = Named(snapshot, named);
            if (other is null)
            {
                await refused!.ExecuteAsync(http);
                return;
            }
            snapshot = other;
        }

        var attributes = request?.CustomAttributes;
        var context = new EvaluationContext(request?.UserId, request?.UserEmail,
            attributes is { } json ? new JsonAttributes(json) : null,
            attributes is { } values ? AttributeSlots.Read(values) : null);
        var identifier = Identifiers.For(in context);
        var flags = snapshot.Flags;
        Span<ushort> outcomes = flags.Length <= 512 ? stackalloc ushort[flags.Length] : new ushort[flags.Length];
        if (snapshot.HasPrerequisites)
        {
            EvaluateWithPrerequisites(snapshot, in context, identifier, outcomes);
        }
        else
        {
            for (var i = 0; i < flags.Length; i++)
            {
                outcomes[i] = Outcome.Of(flags[i].Evaluate(in context, identifier));
            }
        }
        recorder.Record(snapshot, outcomes, -1, in context, identifier);

        WriteBody(http.Response, snapshot, outcomes, request?.Enveloped == true);
        await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
    }

    // Flags evaluated as prerequisites of others are not evaluated again when their turn comes.
    private static void EvaluateWithPrerequisites(EnvironmentSnapshot snapshot, in EvaluationContext context, string? identifier, Span<ushort> outcomes)
    {
        var n = snapshot.Flags.Length;
        Span<EvaluationResult> results = n <= 256 ? stackalloc EvaluationResult[n] : new EvaluationResult[n];
        outcomes.Fill(EnvironmentSnapshot.Pending);
        for (var i = 0; i < n; i++)
        {
            snapshot.Evaluate(i, in context, identifier, outcomes, results);
        }
    }

    // The project's key (its default environment's) may evaluate any environment of the project;
    // another environment's key only its own, so a staging key never reads production.
    private static (EnvironmentSnapshot? Snapshot, IResult? Problem) Named(EnvironmentSnapshot keyed, string environment)
    {
        if (!keyed.IsDefault)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Environment not allowed",
                detail: $"This SDK key evaluates the environment '{keyed.Key}' only; the project's SDK key (its default environment's) may name another."));
        }
        var named = keyed.Project.Environment(environment);
        return named is null
            ? (null, TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Environment not found",
                detail: $"The project has no environment '{environment}'."))
            : (named, null);
    }

    // Serialises into a per-thread buffer, then copies into the response pipe before any await, so
    // that the buffer is never shared between requests.
    private static void WriteBody(HttpResponse response, EnvironmentSnapshot snapshot, ReadOnlySpan<ushort> outcomes, bool enveloped)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var json = t_writer ??= new Utf8JsonWriter(buffer);
        json.Reset(buffer);

        json.WriteStartObject();
        if (enveloped)
        {
            json.WriteString(EnvironmentName, snapshot.EncodedKey);
            json.WriteStartObject(FlagsName);
        }
        for (var i = 0; i < outcomes.Length; i++)
        {
            var flag = snapshot.Flags[i];
            var variant = Outcome.Variant(outcomes[i]);
            var reason = Outcome.Reason(outcomes[i]);
            json.WriteStartObject(snapshot.EncodedKeys[i]);
            json.WriteBoolean(EnabledName, flag.IsEnabled(variant, reason));
            json.WriteString(ReasonName, Reasons[(int)reason]);
            json.WriteString(VariantName, flag.EncodedVariants[variant]);
            // Values were validated JSON when written and are re-encoded once per snapshot.
            json.WritePropertyName(ValueName);
            json.WriteRawValue(flag.RawValues[variant], skipInputValidation: true);
            json.WriteEndObject();
        }
        if (enveloped)
        {
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
