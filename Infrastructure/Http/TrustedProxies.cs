using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace FlagService.Infrastructure.Http;

public sealed class TrustedProxiesOptions
{
    public const string SectionName = "ForwardedHeaders";

    // Addresses (10.0.0.5) and networks (10.0.0.0/8) of the reverse proxies in front of the service.
    public string[] KnownProxies { get; set; } = [];
    public string[] KnownNetworks { get; set; } = [];

    public bool Any => KnownProxies.Length > 0 || KnownNetworks.Length > 0;
}

public static class TrustedProxies
{
    // X-Forwarded-For is believed only from the proxies listed in configuration: otherwise any
    // client could pick its own rate-limit partition and its own address in the logs.
    public static WebApplicationBuilder AddTrustedProxies(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<TrustedProxiesOptions>()
            .BindConfiguration(TrustedProxiesOptions.SectionName)
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)),
                "ForwardedHeaders__KnownProxies__N must be IP addresses (10.0.0.5, fd00::5)")
            .Validate(o => o.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)),
                "ForwardedHeaders__KnownNetworks__N must be networks in CIDR form (10.0.0.0/8)");

        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<TrustedProxiesOptions>>((o, trusted) =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // The defaults trust loopback; only what is configured is trusted here.
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            // Walk X-Forwarded-For from the right through every trusted hop, stopping at the first
            // address that is not a known proxy: that one is the client.
            o.ForwardLimit = null;
            foreach (var proxy in trusted.Value.KnownProxies)
            {
                o.KnownProxies.Add(IPAddress.Parse(proxy));
            }
            foreach (var network in trusted.Value.KnownNetworks)
            {
                o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return builder;
    }

    // First in the pipeline, so that logging and rate limiting see the client's address.
    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<TrustedProxiesOptions>>().Value.Any)
        {
            app.UseForwardedHeaders();
        }
        return app;
    }
}
