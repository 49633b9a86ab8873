namespace FlagService.Client;

public sealed class FlagServiceClientOptions
{
    // The service, e.g. https://flags.example.com/.
    public Uri? BaseAddress { get; set; }

    // The environment's server key (srv_...). Secret: for backends only.
    public string ServerKey { get; set; } = "";

    // When set, the client boots from this file if it exists (offline boot, or a service that is
    // down at start), and writes every ruleset it receives to it.
    public string? RulesetFile { get; set; }

    // Follow GET /sdk/v1/stream; without it (or while it is unavailable) the client polls the
    // ruleset with If-None-Match at PollInterval.
    public bool Streaming { get; set; } = true;

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    // Reconnection waits double from MinBackoff up to MaxBackoff, with jitter.
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    // A stream silent for this long (heartbeats come every 15 s) is taken for dead and reopened.
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(45);

    // How often evaluation counts are sent to POST /sdk/v1/events.
    public TimeSpan EventsInterval { get; set; } = TimeSpan.FromSeconds(10);

    // For tests and custom transports; the client does not dispose it.
    public HttpMessageHandler? Handler { get; set; }
}
