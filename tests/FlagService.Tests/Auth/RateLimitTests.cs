using System.Net;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Auth;

public sealed class StrictRateLimitFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimiting:AuthPermitLimit"] = "3",
        ["RateLimiting:AuthWindowSeconds"] = "60",
    };
}

public sealed class RateLimitTests(StrictRateLimitFixture app) : IClassFixture<StrictRateLimitFixture>
{
    [Fact]
    public async Task Auth_over_the_limit_returns_429_with_retry_after()
    {
        var client = app.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await client.PostJsonAsync("/auth/login", new { email = Api.UniqueEmail(), password = "password1" })).StatusCode);
        }

        var limited = await client.PostJsonAsync("/auth/register", new { email = Api.UniqueEmail(), password = "password1" });

        statuses.Should().AllBeEquivalentTo(HttpStatusCode.Unauthorized);
        await limited.ShouldBeProblemAsync(429);
        limited.Headers.RetryAfter.Should().NotBeNull();
        limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeInRange(1, 60);
    }
}

public sealed class ResetRateLimitFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimiting:AuthPermitLimit"] = "3",
        ["RateLimiting:AuthWindowSeconds"] = "60",
    };
}

public sealed class ResetRateLimitTests(ResetRateLimitFixture app) : IClassFixture<ResetRateLimitFixture>
{
    [Fact]
    public async Task Forgot_and_reset_password_share_the_auth_limit()
    {
        var client = app.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            (await client.PostJsonAsync("/auth/forgot-password", new { email = Api.UniqueEmail() })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        await (await client.PostJsonAsync("/auth/reset-password", new { token = "guess", password = "password1" })).ShouldBeProblemAsync(429);
        await (await client.PostJsonAsync("/auth/forgot-password", new { email = Api.UniqueEmail() })).ShouldBeProblemAsync(429);
    }
}
