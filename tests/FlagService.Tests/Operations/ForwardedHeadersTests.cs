using System.Net;
using FlagService.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FlagService.Tests.Operations;

// The in-memory server has no sockets: this puts the address of the peer a test names (the header
// X-Test-Peer, default the proxy 10.0.0.1) on the connection, ahead of the app's own middleware.
public sealed class PeerAddressStartupFilter : IStartupFilter
{
    public const string Proxy = "10.0.0.1";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            var peer = context.Request.Headers["X-Test-Peer"].ToString();
            context.Connection.RemoteIpAddress = IPAddress.Parse(peer.Length > 0 ? peer : Proxy);
            return nextMiddleware(context);
        });
        next(app);
    };
}

public abstract class PeerFixture : AppFixture
{
    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton<IStartupFilter, PeerAddressStartupFilter>();

    protected static Dictionary<string, string?> Limits(int permits) => new()
    {
        ["RateLimiting:AuthPermitLimit"] = permits.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RateLimiting:AuthWindowSeconds"] = "3600",
    };
}

public sealed class TrustedProxyFixture : PeerFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(Limits(3))
    {
        ["ForwardedHeaders:KnownProxies:0"] = PeerAddressStartupFilter.Proxy,
        ["ForwardedHeaders:KnownNetworks:0"] = "192.168.50.0/24",
    };
}

public sealed class NoProxyFixture : PeerFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => Limits(3);
}

internal static class ForwardedLogin
{
    public static async Task<HttpStatusCode> LoginAsync(HttpClient client, string? forwardedFor, string? peer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { email = "nobody@example.com", password = "not the password" }),
        };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }
        if (peer is not null)
        {
            request.Headers.Add("X-Test-Peer", peer);
        }
        return (await client.SendAsync(request)).StatusCode;
    }
}

public sealed class TrustedProxyTests(TrustedProxyFixture app) : IClassFixture<TrustedProxyFixture>
{
    [Fact]
    public async Task Behind_a_trusted_proxy_each_client_address_has_its_own_rate_limit()
    {
        var client = app.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            (await ForwardedLogin.LoginAsync(client, "203.0.113.7")).Should().Be(HttpStatusCode.Unauthorized);
        }
        (await ForwardedLogin.LoginAsync(client, "203.0.113.7")).Should().Be(HttpStatusCode.TooManyRequests);

        // Another client behind the same proxy, and one behind a chain of two trusted proxies.
        (await ForwardedLogin.LoginAsync(client, "203.0.113.8")).Should().Be(HttpStatusCode.Unauthorized);
        (await ForwardedLogin.LoginAsync(client, "203.0.113.9, 192.168.50.4")).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_peer_that_is_not_a_trusted_proxy_cannot_pick_its_partition()
    {
        var client = app.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            (await ForwardedLogin.LoginAsync(client, $"198.51.100.{i}", peer: "172.20.0.9")).Should().Be(HttpStatusCode.Unauthorized);
        }
        (await ForwardedLogin.LoginAsync(client, "198.51.100.99", peer: "172.20.0.9")).Should().Be(HttpStatusCode.TooManyRequests);
    }
}

public sealed class NoProxyTests(NoProxyFixture app) : IClassFixture<NoProxyFixture>
{
    [Fact]
    public async Task Without_known_proxies_X_Forwarded_For_is_ignored()
    {
        var client = app.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            (await ForwardedLogin.LoginAsync(client, $"203.0.113.{i}")).Should().Be(HttpStatusCode.Unauthorized);
        }
        // Every request came from 10.0.0.1, whatever the header said.
        (await ForwardedLogin.LoginAsync(client, "203.0.113.200")).Should().Be(HttpStatusCode.TooManyRequests);
    }
}
