using FlagService.Features.Evaluation;
using Microsoft.Net.Http.Headers;

namespace FlagService.Features.Sdk.Stream;

public static class StreamChanges
{
    public const string ContentType = "text/event-stream";

    public static RouteHandlerBuilder MapStreamChanges(this IEndpointRouteBuilder sdk) =>
        sdk.MapGet("/stream", HandleAsync).WithName(nameof(StreamChanges))
            .Produces<string>(StatusCodes.Status200OK, ContentType)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    // Server key: `ruleset` events. Sdk key: `changed` events, or with ?format=ofrep OFREP's
    // refetchEvaluation messages. A browser's EventSource cannot send headers, so an sdk key (public
    // anyway) may come as ?key=; a server key never may (URLs end up in logs and histories).
    // The request holds no thread while idle: it awaits its connection's channel.
    internal static async Task HandleAsync(HttpContext http, SnapshotStore store, StreamHub hub)
    {
        if (!AcceptsEventStream(http.Request))
        {
            await Problem(http, StatusCodes.Status406NotAcceptable, "Not acceptable", $"This route only answers {ContentType}.");
            return;
        }
        var fromQuery = SdkEndpoints.Key(http.Request) is null;
        var key = fromQuery ? http.Request.Query["key"].ToString() : SdkEndpoints.Key(http.Request)!;
        var (snapshot, problem) = await SdkEndpoints.ResolveAsync(key, store);
        if (snapshot is null)
        {
            await problem!.ExecuteAsync(http);
            return;
        }
        var server = snapshot.IsServerKey(key);
        if (server && (fromQuery || http.Request.Headers.Origin.Count > 0))
        {
            await SdkEndpoints.Forbidden(fromQuery
                ? "A server key is secret: send it in X-SDK-Key or Authorization, never in the URL."
                : "Server keys are secret and are not accepted from browsers (the request carries an Origin header).").ExecuteAsync(http);
            return;
        }
        var format = http.Request.Query["format"] == "ofrep" ? StreamFormat.Ofrep : server ? StreamFormat.Ruleset : StreamFormat.Changed;
        var connection = hub.Connect(snapshot, key, format);
        if (connection is null)
        {
            await Problem(http, StatusCodes.Status503ServiceUnavailable, "Service unavailable", "The service is shutting down; reconnect.");
            return;
        }
        try
        {
            http.Response.ContentType = ContentType;
            http.Response.Headers.CacheControl = "no-cache";
            // Tells nginx-style proxies not to hold events back in a buffer.
            http.Response.Headers["X-Accel-Buffering"] = "no";
            // The retry hint goes out at once, so the client has its response (and proxies see bytes)
            // even when no event is due at connect (Last-Event-ID is current).
            await http.Response.BodyWriter.WriteAsync(StreamFrames.Retry, http.RequestAborted);

            // Registered first, then the current snapshot is read: a change in between is sent twice
            // at worst (the version check drops the second), never missed.
            var current = await store.FindAsync(key);
            if (current is null)
            {
                return;
            }
            var lastEventId = http.Request.Headers["Last-Event-ID"].ToString();
            connection.Start(current, lastEventId.Length > 0 ? lastEventId : null);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, connection.Closed);
            var body = http.Response.BodyWriter;
            while (await connection.Frames.WaitToReadAsync(stop.Token))
            {
                while (connection.Frames.TryRead(out var frame))
                {
                    await body.WriteAsync(frame, stop.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client left, or the hub cut it off: nothing more to send.
        }
        catch (SnapshotUnavailableException)
        {
        }
        finally
        {
            hub.Disconnect(connection);
            if (connection.CutOff)
            {
                http.Abort();
            }
        }
    }

    // No Accept header, */*, text/* or text/event-stream.
    private static bool AcceptsEventStream(HttpRequest request)
    {
        var accept = request.Headers.Accept;
        if (accept.Count == 0)
        {
            return true;
        }
        if (!MediaTypeHeaderValue.TryParseList(accept, out var types))
        {
            return false;
        }
        var wanted = new MediaTypeHeaderValue(ContentType);
        return types.Any(t => t.Quality != 0 && wanted.IsSubsetOf(t));
    }

    private static Task Problem(HttpContext http, int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(http);
}
