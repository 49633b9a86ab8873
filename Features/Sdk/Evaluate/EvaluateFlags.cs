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

        var entries = Answer(snapshot, request, recorder);
        try
        {
            await WriteAsync(http.Response, snapshot, entries, request?.Enveloped == true, http.RequestAborted);
        }
        finally
        {
            Release(entries, snapshot.Flags.Length);
        }
    }

    // Everything after the key and the body: evaluate every flag and count the outcomes. Returns
    // each flag's entry of the answer, in a pooled array (Release it). bench/ServerBenchmarks
    // measures this and WriteAsync.
    internal static Entry[] Answer(EnvironmentSnapshot snapshot, EvaluateRequest? request, EvaluationRecorder recorder)
    {
        var attributes = request?.CustomAttributes;
        var context = new EvaluationContext(request?.UserId, request?.UserEmail,
            attributes is { } json ? new JsonAttributes(json) : null,
            attributes is { } values ? snapshot.Slots.Read(values) : default);
        var identifier = Identifiers.For(in context);
        var flags = snapshot.Flags;
        var answers = AnswerTable.Of(snapshot);
        Span<ushort> outcomes = flags.Length <= 2048 ? stackalloc ushort[flags.Length] : new ushort[flags.Length];
        // Each flag's answer is taken while the flag is at hand: a thousand flags are walked once.
        var entries = ArrayPool<Entry>.Shared.Rent(flags.Length);
        if (snapshot.HasPrerequisites)
        {
            EvaluateWithPrerequisites(snapshot, in context, identifier, outcomes);
            for (var i = 0; i < flags.Length; i++)
            {
                entries[i] = new Entry(answers.Entry(i, outcomes[i]));
            }
        }
        else
        {
            // With many flags, the ones that split users are bucketed first, all at once: their
            // murmur3 chains run side by side in vector lanes (BucketBatch), instead of one flag's
            // after the other's inside the evaluation.
            Span<byte> buckets = identifier is not null && flags.Length is >= BucketsFirst and <= 2048
                ? stackalloc byte[flags.Length] : default;
            if (!buckets.IsEmpty)
            {
                buckets.Fill(NoBucket);
                snapshot.SplitBuckets.Buckets(identifier!, buckets);
            }
            for (var i = 0; i < flags.Length; i++)
            {
                var flag = flags[i];
                var outcome = flag.EvaluateOutcome(in context, identifier, buckets.IsEmpty || buckets[i] == NoBucket ? -1 : buckets[i]);
                outcomes[i] = outcome;
                entries[i] = new Entry(answers.Entry(i, outcome));
            }
        }
        recorder.Record(snapshot, outcomes, in context, identifier);
        return entries;
    }

    // From this many flags on, the buckets are hashed ahead of the evaluation (below it, a flag
    // that a rule decides would hash for nothing, and there is little to overlap).
    private const int BucketsFirst = 64;
    private const byte NoBucket = byte.MaxValue;

    // Cleared, so that the pool does not keep old configurations' answers alive.
    internal static void Release(Entry[] entries, int count)
    {
        Array.Clear(entries, 0, count);
        ArrayPool<Entry>.Shared.Return(entries);
    }

    // The headers go out first (StartAsync): the body is then written once, straight behind them.
    // Written before the response has started, Kestrel would hold it in buffers of its own and
    // copy it again behind the headers at the flush: 90 KB copied twice for 1 000 flags.
    internal static async Task WriteAsync(HttpResponse response, EnvironmentSnapshot snapshot, Entry[] entries, bool enveloped, CancellationToken ct)
    {
        var count = snapshot.Flags.Length;
        var environment = enveloped ? AnswerTable.Of(snapshot).Environment : default;
        long length = enveloped ? EnvelopeStart.Length + environment.EncodedUtf8Bytes.Length + EnvelopeFlags.Length + 2 : 2;
        for (var i = 0; i < count; i++)
        {
            length += entries[i].Bytes.Length;
        }
        if (count > 0)
        {
            length--;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = length;
        await response.StartAsync(ct);
        WriteBody(response.BodyWriter, environment.EncodedUtf8Bytes, entries.AsSpan(0, count), enveloped, (int)Math.Min(length, ContiguousBody));
        await response.BodyWriter.FlushAsync(ct);
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

    // The answer is the flags' entries (AnswerTable, each led by its comma) between
    // braces, copied straight into the response's buffers: no JSON is written per request, and a
    // large answer (1 000 flags: ~90 KB) is neither buffered twice nor allocated.
    // A body up to this size is asked for in one piece: beyond Kestrel's 4 KiB blocks the pipe
    // takes a buffer from the shared array pool, so a 1 000-flag answer is copied into one buffer
    // and sent as one, instead of through two dozen blocks.
    private const int ContiguousBody = 256 * 1024;

    private static void WriteBody(System.IO.Pipelines.PipeWriter writer, ReadOnlySpan<byte> environment, ReadOnlySpan<Entry> entries, bool enveloped,
        int length)
    {
        var body = new ChunkedWriter(writer, length);
        if (enveloped)
        {
            body.Write(EnvelopeStart);
            body.Write(environment);
            body.Write(EnvelopeFlags);
        }
        else
        {
            body.Write("{"u8);
        }
        for (var i = 0; i < entries.Length; i++)
        {
            body.Write(i == 0 ? entries[i].Bytes.AsSpan(1) : entries[i].Bytes);
        }
        body.Write(enveloped ? "}}"u8 : "}"u8);
        body.Complete();
    }

    // An answer's entry held in a struct: storing it in the pooled array needs no covariance check.
    internal readonly record struct Entry(byte[] Bytes);

    private static ReadOnlySpan<byte> EnvelopeStart => "{\"environment\":\""u8;
    private static ReadOnlySpan<byte> EnvelopeFlags => "\",\"flags\":{"u8;

    // Fills the pipe's current buffer, then asks for the next one.
    private ref struct ChunkedWriter(System.IO.Pipelines.PipeWriter writer, int sizeHint)
    {
        private Span<byte> _free = writer.GetSpan(sizeHint);
        private int _used;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            while (bytes.Length > _free.Length - _used)
            {
                var part = _free.Length - _used;
                bytes[..part].CopyTo(_free[_used..]);
                bytes = bytes[part..];
                writer.Advance(_free.Length);
                _free = writer.GetSpan();
                _used = 0;
            }
            bytes.CopyTo(_free[_used..]);
            _used += bytes.Length;
        }

        public readonly void Complete() => writer.Advance(_used);
    }
}
