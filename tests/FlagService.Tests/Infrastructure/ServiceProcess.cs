using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FlagService.Tests.Infrastructure;

// The service as operators run it: in a process of its own (Command), stopped with
// SIGTERM, its console output kept for the test to read.
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public int Port { get; }
    public HttpClient Client { get; }
    public int ProcessId => _process.Id;
    public IReadOnlyList<string> Output => [.. _output];

    // The service's command line: the published build in FLAGSERVICE_TEST_PUBLISHED when that is set
    // (scripts/test.sh publishes it as the Dockerfile does: self-contained and trimmed), else
    // `dotnet FlagService.dll` of this build. Run from its own folder, as the image does.
    public static ProcessStartInfo Command(ProcessStartInfo start)
    {
        var published = Environment.GetEnvironmentVariable("FLAGSERVICE_TEST_PUBLISHED");
        if (string.IsNullOrEmpty(published))
        {
            start.FileName = "dotnet";
            start.ArgumentList.Add(typeof(Program).Assembly.Location);
        }
        else
        {
            start.FileName = Path.Combine(published, "FlagService");
            start.WorkingDirectory = published;
        }
        return start;
    }

    public static ServiceProcess Start(string connectionString, IReadOnlyDictionary<string, string> settings)
    {
        var port = FreePort();
        var start = Command(new ProcessStartInfo
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment =
            {
                ["ConnectionStrings__Postgres"] = connectionString,
                ["Jwt__Secret"] = FlagServiceFactory.JwtSecret,
                ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_URLS"] = "",
            },
        });
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        var process = new Process { StartInfo = start };
        var service = new ServiceProcess(process, port);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    public async Task<bool> ReadyAsync(TimeSpan within) =>
        await SdkScenario.EventuallyAsync(async () =>
        {
            try { return (await Client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { return false; }
        }, within);

    // What `docker stop` and Kubernetes send.
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public async Task<int?> ExitCodeAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
