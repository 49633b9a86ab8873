using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FlagService.Tests.Infrastructure;
using Npgsql;

namespace FlagService.Tests.Database;

// The service as its users start it: a process configured the way older flag servers are.
public sealed class StartupTests
{
    [Fact]
    public async Task Service_honours_DATABASE_URL_JWT_SECRET_and_PORT()
    {
        await using var database = await TestDatabase.CreateAsync();
        var cs = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        var url = $"postgres://{Uri.EscapeDataString(cs.Username!)}:{Uri.EscapeDataString(cs.Password ?? "")}@{cs.Host}:{cs.Port}/{cs.Database}";
        var port = FreePort();
        var start = ServiceProcess.Command(new ProcessStartInfo
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment =
            {
                ["DATABASE_URL"] = url,
                ["JWT_SECRET"] = FlagServiceFactory.JwtSecret,
                ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_URLS"] = "",
            },
        });
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var healthy = await SdkScenario.EventuallyAsync(async () =>
            {
                try { return (await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK; }
                catch (HttpRequestException) { return false; }
            }, TimeSpan.FromSeconds(60));
            healthy.Should().BeTrue("the service listens on PORT and reaches DATABASE_URL");

            // A token issued with JWT_SECRET is accepted by the same secret in the test's validator.
            var token = await client.RegisterAndLoginAsync(Api.UniqueEmail());
            var validation = await new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().ValidateTokenAsync(token,
                FlagService.Infrastructure.Auth.TokenIssuer.ValidationParameters(new FlagService.Infrastructure.Auth.JwtOptions
                {
                    Secret = FlagServiceFactory.JwtSecret,
                }));
            validation.IsValid.Should().BeTrue();
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
