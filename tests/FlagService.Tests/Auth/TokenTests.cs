using System.Net.Http.Headers;
using System.Text;
using FlagService.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FlagService.Tests.Auth;

public sealed class TokenTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Api_without_token_returns_401_problem()
    {
        var response = await app.CreateClient().GetAsync("/api/me");
        await response.ShouldBeProblemAsync(401);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b.c")]
    public async Task Api_with_malformed_token_returns_401(string token)
    {
        var response = await Send(token);
        await response.ShouldBeProblemAsync(401);
    }

    [Fact]
    public async Task Api_with_expired_token_returns_401()
    {
        var userId = await RegisteredUserIdAsync();
        var token = Sign(userId, FlagServiceFactory.JwtSecret, DateTime.UtcNow.AddHours(-25), DateTime.UtcNow.AddHours(-1));
        await (await Send(token)).ShouldBeProblemAsync(401);
    }

    [Fact]
    public async Task Api_with_token_signed_by_another_secret_returns_401()
    {
        var userId = await RegisteredUserIdAsync();
        var token = Sign(userId, "another-secret-that-is-also-32-bytes-long", DateTime.UtcNow, DateTime.UtcNow.AddHours(1));
        await (await Send(token)).ShouldBeProblemAsync(401);
    }

    [Fact]
    public async Task Api_with_alg_none_token_returns_401()
    {
        var userId = await RegisteredUserIdAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        static string B64(string s) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(s));
        var token = $"{B64("{\"alg\":\"none\",\"typ\":\"JWT\"}")}." +
                    $"{B64($"{{\"sub\":\"{userId}\",\"iss\":\"flagservice\",\"aud\":\"flagservice\",\"iat\":{now},\"exp\":{now + 3600}}}")}.";
        await (await Send(token)).ShouldBeProblemAsync(401);
    }

    [Fact]
    public async Task Api_with_valid_self_signed_token_returns_200()
    {
        // The control for the tests above: the same construction with the right secret works.
        var userId = await RegisteredUserIdAsync();
        var token = Sign(userId, FlagServiceFactory.JwtSecret, DateTime.UtcNow, DateTime.UtcNow.AddHours(1));
        (await Send(token)).IsSuccessStatusCode.Should().BeTrue();
    }

    private async Task<HttpResponseMessage> Send(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await app.CreateClient().SendAsync(request);
    }

    private async Task<string> RegisteredUserIdAsync()
    {
        var response = await app.CreateClient().PostJsonAsync("/auth/register", new { email = Api.UniqueEmail(), password = "password1" });
        return (await response.ReadObjectAsync())["id"]!.GetValue<string>();
    }

    private static string Sign(string userId, string secret, DateTime issued, DateTime expires) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "flagservice",
            Audience = "flagservice",
            IssuedAt = issued,
            NotBefore = issued,
            Expires = expires,
            Claims = new Dictionary<string, object> { ["sub"] = userId },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        });
}
