using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FlagService.Features.Evaluation;

namespace FlagService.Client;

// Evaluates flags in-process from the environment's ruleset, with the service's own engine.
// Background work keeps the ruleset current (the stream, or ETag polling while the stream is
// unavailable) and reports evaluation counts; evaluations never wait on the network and keep
// answering from the last known ruleset when the service cannot be reached.
public sealed class FlagServiceClient : IAsyncDisposable
{
    private const string KeyHeader = "X-SDK-Key";

    // One ruleset, compiled, and the counts of the evaluations made with it.
    private sealed class State
    {
        public State(byte[] json)
        {
            var ruleset = Ruleset.Parse(json);
            Version = ruleset.Version;
            Snapshot = new ProjectSnapshot(ruleset.ToDefinition()).Environments[0];
            Counts = Array.ConvertAll(Snapshot.Flags, f => new long[Outcome.ReasonSlots * f.Variants.Length]);
            Json = json;
        }

        public string Version { get; }
        public EnvironmentSnapshot Snapshot { get; }
        public long[][] Counts { get; }
        public byte[] Json { get; }
        public int Harvests { get; set; }
    }

    private readonly FlagServiceClientOptions _options;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly List<State> _retired = [];
    private readonly Dictionary<(string Flag, string Variant, string Reason), long> _unsent = [];
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private volatile State? _state;
    private Task _sync = Task.CompletedTask;
    private Task _events = Task.CompletedTask;

    public FlagServiceClient(FlagServiceClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.ServerKey))
        {
            throw new ArgumentException("A server key (srv_...) is required.", nameof(options));
        }
        _options = options;
        _http = options.Handler is null ? new HttpClient() : new HttpClient(options.Handler, disposeHandler: false);
        _http.BaseAddress = options.BaseAddress;
        // Streams stay open for hours; each request sets its own timeout instead.
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    // Boots from the ruleset file when there is one, then starts following the service. Completes
    // once a ruleset is in hand, or when `ct` is cancelled (the client then keeps trying).
    public static async Task<FlagServiceClient> StartAsync(FlagServiceClientOptions options, CancellationToken ct = default)
    {
        var client = new FlagServiceClient(options);
        client.Start();
        try
        {
            await client.Ready.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        return client;
    }

    public void Start()
    {
        if (_options.RulesetFile is { } file && File.Exists(file))
        {
            try
            {
                Apply(File.ReadAllBytes(file), persist: false);
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
            {
                LastError = e;
            }
        }
        if (_options.BaseAddress is not null)
        {
            _sync = Task.Run(() => SyncAsync(_stop.Token));
            _events = Task.Run(() => ReportAsync(_stop.Token));
        }
    }

    // Completes when the first ruleset has been applied (from the file or the service).
    public Task Ready => _ready.Task;

    public bool IsReady => _state is not null;

    // The ruleset version in use (the stream's event id), null before the first.
    public string? Version => _state?.Version;

    public bool StreamConnected { get; private set; }

    // The last failure of the background work, for health checks and logs.
    public Exception? LastError { get; private set; }

    // Raised after a new ruleset is applied, with its version.
    public event Action<string>? Changed;

    public bool IsEnabled(string key, FlagContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var state = _state;
        return state is not null && state.Snapshot.IndexByKey.TryGetValue(key, out var index) && Evaluate(state, index, context).Value;
    }

    public FlagVariant GetVariant(string key, FlagContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var state = _state;
        if (state is null)
        {
            return new FlagVariant(null, default, "not_ready", false);
        }
        if (!state.Snapshot.IndexByKey.TryGetValue(key, out var index))
        {
            return new FlagVariant(null, default, "flag_not_found", false);
        }
        var result = Evaluate(state, index, context);
        var flag = state.Snapshot.Flags[index];
        return new FlagVariant(flag.Variants[result.Variant], flag.Values[result.Variant], result.Reason.ToWire(), result.Value);
    }

    // The flag keys of the ruleset in use.
    public IReadOnlyCollection<string> FlagKeys => _state?.Snapshot.IndexByKey.Keys ?? (IReadOnlyCollection<string>)[];

    private static EvaluationResult Evaluate(State state, int index, FlagContext context)
    {
        var snapshot = state.Snapshot;
        var engine = context.Engine(snapshot.Slots);
        EvaluationResult result;
        if (!snapshot.HasPrerequisites)
        {
            result = snapshot.Flags[index].Evaluate(in engine, context.Identifier);
        }
        else if (snapshot.Flags.Length <= 64)
        {
            Span<ushort> outcomes = stackalloc ushort[snapshot.Flags.Length];
            Span<EvaluationResult> results = stackalloc EvaluationResult[snapshot.Flags.Length];
            outcomes.Fill(EnvironmentSnapshot.Pending);
            result = snapshot.Evaluate(index, in engine, context.Identifier, outcomes, results);
        }
        else
        {
            var outcomes = new ushort[snapshot.Flags.Length];
            Array.Fill(outcomes, EnvironmentSnapshot.Pending);
            result = snapshot.Evaluate(index, in engine, context.Identifier, outcomes, new EvaluationResult[snapshot.Flags.Length]);
        }
        Interlocked.Increment(ref state.Counts[index][Outcome.Of(result)]);
        return result;
    }

    private void Apply(byte[] json, bool persist)
    {
        var next = new State(json);
        lock (_gate)
        {
            var previous = _state;
            if (previous?.Version == next.Version)
            {
                return;
            }
            if (previous is not null)
            {
                _retired.Add(previous);
            }
            _state = next;
        }
        if (persist && _options.RulesetFile is { } file)
        {
            // Written aside, then moved over: a crash never leaves half a file to boot from.
            var temporary = file + ".tmp";
            File.WriteAllBytes(temporary, json);
            File.Move(temporary, file, overwrite: true);
        }
        _ready.TrySetResult();
        Changed?.Invoke(next.Version);
    }

    private async Task SyncAsync(CancellationToken ct)
    {
        var backoff = _options.MinBackoff;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // Every (re)connection starts with a conditional fetch: changes missed while
                // disconnected arrive here, and this is the polling when streaming is off or failing.
                await PollAsync(ct).ConfigureAwait(false);
                if (!_options.Streaming)
                {
                    backoff = _options.MinBackoff;
                    await Task.Delay(_options.PollInterval, ct).ConfigureAwait(false);
                    continue;
                }
                if (await FollowStreamAsync(ct).ConfigureAwait(false))
                {
                    backoff = _options.MinBackoff;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Unreachable, refused or broken: keep the last ruleset, retry later.
                LastError = e;
                StreamConnected = false;
            }
            var wait = backoff * (0.5 + (Random.Shared.NextDouble() / 2));
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
            try
            {
                await Task.Delay(wait, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task PollAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        using var request = new HttpRequestMessage(HttpMethod.Get, "sdk/v1/ruleset");
        request.Headers.Add(KeyHeader, _options.ServerKey);
        if (_state?.Version is { } version)
        {
            request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{version}\""));
        }
        using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotModified)
        {
            return;
        }
        response.EnsureSuccessStatusCode();
        Apply(await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false), persist: true);
    }

    // Reads ruleset events until the stream ends; true when it had connected.
    private async Task<bool> FollowStreamAsync(CancellationToken ct)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        idle.CancelAfter(TimeSpan.FromSeconds(10));
        using var request = new HttpRequestMessage(HttpMethod.Get, "sdk/v1/stream");
        request.Headers.Add(KeyHeader, _options.ServerKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (_state?.Version is { } version)
        {
            request.Headers.Add("Last-Event-ID", version);
        }
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        StreamConnected = true;
        try
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false), Encoding.UTF8);
            string? name = null;
            var data = new StringBuilder();
            while (true)
            {
                idle.CancelAfter(_options.StreamIdleTimeout);
                var line = await reader.ReadLineAsync(idle.Token).ConfigureAwait(false);
                if (line is null)
                {
                    return true;
                }
                if (line.Length == 0)
                {
                    if (name == "ruleset" && data.Length > 0)
                    {
                        Apply(Encoding.UTF8.GetBytes(data.ToString()), persist: true);
                    }
                    name = null;
                    data.Clear();
                }
                else if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    name = line[6..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data.Append(line.AsSpan(5).TrimStart(' '));
                }
            }
        }
        finally
        {
            StreamConnected = false;
        }
    }

    private async Task ReportAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.EventsInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                await FlushAsync(ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Sends the evaluation counts gathered since the last flush to POST /sdk/v1/events. Counts that
    // cannot be sent are kept and sent with the next batch, so the service's statistics stay exact.
    public async Task<bool> FlushAsync(CancellationToken ct = default)
    {
        await _flushing.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Harvest();
            if (_unsent.Count == 0)
            {
                return true;
            }
            var counts = _unsent.Select(c => new { flag = c.Key.Flag, variant = c.Key.Variant, reason = c.Key.Reason, count = c.Value }).ToArray();
            using var request = new HttpRequestMessage(HttpMethod.Post, "sdk/v1/events")
            {
                Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new { counts }))
                {
                    Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
                },
            };
            request.Headers.Add(KeyHeader, _options.ServerKey);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode || (int)response.StatusCode is 400 or 422)
                {
                    // A refused batch would be refused again: it is dropped, not resent for ever.
                    _unsent.Clear();
                    return response.IsSuccessStatusCode;
                }
                return false;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                LastError = e;
                return false;
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    private void Harvest()
    {
        State[] states;
        lock (_gate)
        {
            states = [.. _retired, .. _state is { } current ? [current] : Array.Empty<State>()];
            // A retired ruleset is harvested twice: an evaluation that picked it up just before the
            // swap may still be counting into it during the first harvest.
            _retired.RemoveAll(s => ++s.Harvests >= 2);
        }
        foreach (var state in states)
        {
            for (var i = 0; i < state.Counts.Length; i++)
            {
                var counts = state.Counts[i];
                for (var outcome = 0; outcome < counts.Length; outcome++)
                {
                    if (Volatile.Read(ref counts[outcome]) == 0)
                    {
                        continue;
                    }
                    var count = Interlocked.Exchange(ref counts[outcome], 0);
                    var flag = state.Snapshot.Flags[i];
                    var key = (flag.Key, flag.Variants[Outcome.Variant(outcome)], Outcome.Reason(outcome).ToWire());
                    // Bounded: a service unreachable for long loses counts rather than memory.
                    if (_unsent.Count < 100_000 || _unsent.ContainsKey(key))
                    {
                        _unsent[key] = _unsent.GetValueOrDefault(key) + count;
                    }
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_sync, _events).ConfigureAwait(false);
        if (_options.BaseAddress is not null)
        {
            await FlushAsync().ConfigureAwait(false);
        }
        _http.Dispose();
        _stop.Dispose();
        _flushing.Dispose();
    }
}
