using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Observability;
using Microsoft.Extensions.Options;

namespace FlagService.Features.Sdk.Stream;

public sealed class StreamOptions
{
    public const string SectionName = "Streaming";

    // A comment line this often keeps proxies from closing idle streams and lets clients notice a dead link.
    [Range(10, 3_600_000)]
    public int HeartbeatMilliseconds { get; set; } = 15_000;

    // Frames a connection may have waiting; a reader that falls this far behind is cut off.
    [Range(1, 10_000)]
    public int BufferFrames { get; set; } = 16;
}

// What a connection receives: the whole ruleset (server keys), its version (sdk keys), or OFREP's
// refetchEvaluation message (the OpenFeature web provider).
public enum StreamFormat
{
    Ruleset,
    Changed,
    Ofrep,
}

// One open stream: a bounded queue of ready-made frames that its request drains to the socket.
public sealed class StreamConnection
{
    private readonly Channel<ReadOnlyMemory<byte>> _frames;
    private readonly CancellationTokenSource _closed = new();
    private string? _version;

    internal StreamConnection(Guid projectId, string key, StreamFormat format, int capacity)
    {
        ProjectId = projectId;
        Key = key;
        Format = format;
        // Single reader (the request), many writers (the hub's refreshes, the heartbeat).
        _frames = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public Guid ProjectId { get; }
    public string Key { get; }
    public StreamFormat Format { get; }
    public ChannelReader<ReadOnlyMemory<byte>> Frames => _frames.Reader;

    // Cancelled when the hub closes the stream: a full buffer, a revoked key, shutdown.
    public CancellationToken Closed => _closed.Token;

    public bool CutOff { get; private set; }

    // Queues the snapshot's frame unless this version was already sent (two refreshes of one change).
    internal void Send(EnvironmentSnapshot snapshot)
    {
        var version = snapshot.Ruleset.Version;
        if (Interlocked.Exchange(ref _version, version) != version)
        {
            Offer(StreamFrames.For(snapshot, Format));
        }
    }

    // At connect: the client already has `lastEventId`, so only a different version is sent.
    internal void Start(EnvironmentSnapshot snapshot, string? lastEventId)
    {
        Interlocked.CompareExchange(ref _version, lastEventId, null);
        Send(snapshot);
    }

    // Never waits: a reader that has not drained its buffer is disconnected, so one slow client
    // holds neither the hub nor the other connections.
    internal void Offer(ReadOnlyMemory<byte> frame)
    {
        if (!_frames.Writer.TryWrite(frame))
        {
            CutOff = true;
            Close();
        }
    }

    internal void Close()
    {
        _frames.Writer.TryComplete();
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

// The open streams of this instance, by project. ProjectChanges (this instance's writes at once,
// other instances' through ConfigurationListener's LISTEN) triggers a refresh: the snapshot is
// reloaded once and its frame, built once, is queued on every connection of the project.
public sealed partial class StreamHub : IDisposable
{
    private sealed class Refresh
    {
        public int Requests;
    }

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<StreamConnection, byte>> _byProject = new();
    private readonly ConcurrentDictionary<Guid, Refresh> _refreshes = new();
    private readonly SnapshotStore _store;
    private readonly ILogger<StreamHub> _logger;
    private readonly ITimer _heartbeat;
    private readonly int _capacity;
    private int _count;
    private volatile bool _stopping;

    // SnapshotStore is a dependency so that it subscribes to ProjectChanges first: by the time the
    // hub hears of a change, the stale snapshot is already gone.
    public StreamHub(SnapshotStore store, ProjectChanges changes, IOptions<StreamOptions> options, FlagServiceMetrics metrics,
        TimeProvider time, IHostApplicationLifetime lifetime, ILogger<StreamHub> logger)
    {
        _store = store;
        _logger = logger;
        _capacity = options.Value.BufferFrames;
        changes.Subscribe(Changed, ChangedAll);
        metrics.ObserveStreamConnections(() => Volatile.Read(ref _count));
        var period = TimeSpan.FromMilliseconds(options.Value.HeartbeatMilliseconds);
        // One timer for all connections, not one per connection.
        _heartbeat = time.CreateTimer(_ => Broadcast(StreamFrames.Heartbeat), null, period, period);
        lifetime.ApplicationStopping.Register(CloseAll);
    }

    public int Count => Volatile.Read(ref _count);

    public StreamConnection? Connect(EnvironmentSnapshot snapshot, string key, StreamFormat format)
    {
        if (_stopping)
        {
            return null;
        }
        var connection = new StreamConnection(snapshot.ProjectId, key, format, _capacity);
        _byProject.GetOrAdd(snapshot.ProjectId, _ => new ConcurrentDictionary<StreamConnection, byte>())[connection] = 0;
        Interlocked.Increment(ref _count);
        return connection;
    }

    public void Disconnect(StreamConnection connection)
    {
        if (_byProject.TryGetValue(connection.ProjectId, out var connections) && connections.TryRemove(connection, out _))
        {
            Interlocked.Decrement(ref _count);
        }
        connection.Close();
    }

    private void Changed(Guid projectId)
    {
        if (!_byProject.TryGetValue(projectId, out var connections) || connections.IsEmpty)
        {
            return;
        }
        // Changes that arrive while a refresh runs fold into one more refresh after it, so the last
        // configuration is always the one sent and refreshes of one project never overlap.
        var refresh = _refreshes.GetOrAdd(projectId, _ => new Refresh());
        if (Interlocked.Increment(ref refresh.Requests) == 1)
        {
            _ = Task.Run(() => RunAsync(projectId, refresh));
        }
    }

    private void ChangedAll()
    {
        foreach (var projectId in _byProject.Keys)
        {
            Changed(projectId);
        }
    }

    private async Task RunAsync(Guid projectId, Refresh refresh)
    {
        while (true)
        {
            var seen = Volatile.Read(ref refresh.Requests);
            await RefreshAsync(projectId);
            if (Interlocked.Add(ref refresh.Requests, -seen) == 0)
            {
                return;
            }
        }
    }

    private async Task RefreshAsync(Guid projectId)
    {
        if (!_byProject.TryGetValue(projectId, out var connections))
        {
            return;
        }
        foreach (var group in connections.Keys.GroupBy(c => c.Key, StringComparer.Ordinal))
        {
            EnvironmentSnapshot? snapshot;
            try
            {
                snapshot = await _store.FindAsync(group.Key);
            }
            catch (SnapshotUnavailableException e)
            {
                // Streams stay open on the last version; the listener's reconnect refreshes them all.
                LogRefreshFailed(_logger, projectId, e.Message);
                continue;
            }
            foreach (var connection in group)
            {
                if (snapshot is null)
                {
                    // The key was regenerated or the project deleted: the stream ends.
                    Disconnect(connection);
                }
                else
                {
                    connection.Send(snapshot);
                }
            }
        }
    }

    private void Broadcast(ReadOnlyMemory<byte> frame)
    {
        foreach (var connections in _byProject.Values)
        {
            foreach (var connection in connections.Keys)
            {
                connection.Offer(frame);
            }
        }
    }

    // Graceful shutdown: every stream's queue completes, so each request ends its response cleanly
    // (clients then reconnect to another instance) instead of being killed at the shutdown timeout.
    private void CloseAll()
    {
        _stopping = true;
        foreach (var connections in _byProject.Values)
        {
            foreach (var connection in connections.Keys)
            {
                connection.Close();
            }
        }
    }

    public void Dispose() => _heartbeat.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Streams of project {ProjectId} not refreshed: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, Guid projectId, string reason);
}

// Server-sent event frames, built once per snapshot and format and shared by every connection.
public static class StreamFrames
{
    private sealed class Frames(EnvironmentSnapshot snapshot)
    {
        private byte[]? _ruleset, _changed, _ofrep;

        public byte[] For(StreamFormat format) => format switch
        {
            StreamFormat.Ruleset => _ruleset ??= Build("ruleset", snapshot.Ruleset.Json),
            StreamFormat.Changed => _changed ??= Build("changed", Encoding.UTF8.GetBytes($$"""{"version":"{{snapshot.Ruleset.Version}}"}""")),
            // OFREP's messages are unnamed (the provider listens for "message"); the etag is the version.
            _ => _ofrep ??= Build(null, Encoding.UTF8.GetBytes(
                $$"""{"type":"refetchEvaluation","etag":"{{snapshot.Ruleset.Version}}","lastModified":{{snapshot.Project.LoadedAt.ToUnixTimeSeconds()}}}""")),
        };

        // The JSON is one line (no indentation, and JSON strings escape line breaks), so one data: line.
        private byte[] Build(string? name, byte[] data)
        {
            var head = Encoding.UTF8.GetBytes((name is null ? "" : $"event: {name}\n") + $"id: {snapshot.Ruleset.Version}\ndata: ");
            return [.. head, .. data, (byte)'\n', (byte)'\n'];
        }
    }

    private static readonly ConditionalWeakTable<EnvironmentSnapshot, Frames> Cache = [];

    public static ReadOnlyMemory<byte> Heartbeat { get; } = Encoding.UTF8.GetBytes(": heartbeat\n\n");

    // EventSource waits this long before reconnecting after the stream ends.
    public static ReadOnlyMemory<byte> Retry { get; } = Encoding.UTF8.GetBytes("retry: 1000\n\n");

    public static ReadOnlyMemory<byte> For(EnvironmentSnapshot snapshot, StreamFormat format) =>
        Cache.GetValue(snapshot, s => new Frames(s)).For(format);
}
