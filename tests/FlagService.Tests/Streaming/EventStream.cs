using System.Net.Http.Headers;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Streaming;

public sealed record ServerSentEvent(string? Event, string? Id, string Data);

// A real server-sent events reader over an HttpClient: parses event, id and data lines, counts comments.
public sealed class EventStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private EventStream(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body);
    }

    public int Comments { get; private set; }

    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, string? key, string? lastEventId = null,
        string path = "/sdk/v1/stream", string? accept = "text/event-stream", string? origin = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-SDK-Key", key);
        }
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        if (accept is not null)
        {
            request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(accept));
        }
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    public static async Task<EventStream> OpenAsync(HttpClient client, string? key, string? lastEventId = null, string path = "/sdk/v1/stream")
    {
        var response = await SendAsync(client, key, lastEventId, path);
        response.EnsureSuccessStatusCode();
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        return new EventStream(response, await response.Content.ReadAsStreamAsync());
    }

    // The next event; comments (heartbeats) are counted and skipped.
    public async Task<ServerSentEvent> NextAsync(TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? Eventually.Patience);
        string? name = null, id = null;
        var data = new List<string>();
        while (true)
        {
            var line = await _reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("The stream ended.");
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    return new ServerSentEvent(name, id, string.Join('\n', data));
                }
                continue;
            }
            if (line[0] == ':')
            {
                Comments++;
                continue;
            }
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "event": name = value; break;
                case "id": id = value; break;
                case "data": data.Add(value); break;
            }
        }
    }

    // Reads until `count` comments (heartbeats) have arrived since the stream opened.
    public async Task<bool> CommentsWithinAsync(int count, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (Comments < count && await _reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith(':'))
                {
                    Comments++;
                }
            }
            return Comments >= count;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    // Reads until the server ends the stream (true), or the time is up (false).
    public async Task<bool> EndsWithinAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (await _reader.ReadLineAsync(timeout.Token) is not null)
            {
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        await Task.CompletedTask;
    }
}

public static class Keys
{
    public static async Task<string> ServerKeyAsync(this SdkScenario sdk, string environment = "production") =>
        (await (await sdk.Owner.GetAsync($"/api/projects/{sdk.ProjectId}/environments/{environment}")).ReadObjectAsync())["server_key"]!
            .GetValue<string>();
}
