using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Auth;

public sealed class LoginTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly HttpClient _client = app.CreateClient();

    [Fact]
    public async Task Login_correct_password_returns_token_valid_for_24_hours()
    {
        var email = Api.UniqueEmail();
        (await _client.PostJsonAsync("/auth/register", new { email, password = "password1" })).EnsureSuccessStatusCode();

        var response = await _client.PostJsonAsync("/auth/login", new { email = email.ToUpperInvariant(), password = "password1" });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.ReadObjectAsync();
        body["token"]!.GetValue<string>().Split('.').Should().HaveCount(3);
        body["expires_at"]!.GetValue<DateTime>().ToUniversalTime()
            .Should().BeCloseTo(DateTime.UtcNow.AddHours(24), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Login_wrong_password_and_unknown_user_return_identical_401()
    {
        var email = Api.UniqueEmail();
        (await _client.PostJsonAsync("/auth/register", new { email, password = "password1" })).EnsureSuccessStatusCode();

        var wrongPassword = await _client.PostJsonAsync("/auth/login", new { email, password = "password2" });
        var unknownUser = await _client.PostJsonAsync("/auth/login", new { email = Api.UniqueEmail(), password = "password1" });

        var first = await wrongPassword.ShouldBeProblemAsync(401);
        var second = await unknownUser.ShouldBeProblemAsync(401);
        WithoutTraceId(first).Should().Be(WithoutTraceId(second));
        first["detail"]!.GetValue<string>().Should().Be("The email or password is incorrect.");
    }

    [Fact]
    public async Task Login_missing_fields_return_401()
    {
        var response = await _client.PostJsonAsync("/auth/login", new { });
        await response.ShouldBeProblemAsync(401);
    }

    [Fact]
    public async Task Me_with_token_returns_the_account()
    {
        var email = Api.UniqueEmail();
        var token = await _client.RegisterAndLoginAsync(email);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var response = await _client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var me = await response.ReadObjectAsync();
        me["email"]!.GetValue<string>().Should().Be(email);
        me["created_at"]!.GetValue<string>().Should().EndWith("Z");
    }

    private static string WithoutTraceId(JsonObject problem)
    {
        var copy = problem.DeepClone().AsObject();
        copy.Remove("trace_id");
        return copy.ToJsonString();
    }
}
