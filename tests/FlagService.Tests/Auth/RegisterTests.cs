using System.Net;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Auth;

public sealed class RegisterTests(AppFixture app) : IClassFixture<AppFixture>
{
    private readonly HttpClient _client = app.CreateClient();

    [Fact]
    public async Task Register_valid_input_returns_201_with_trimmed_email()
    {
        var email = Api.UniqueEmail();
        var response = await _client.PostJsonAsync("/auth/register", new { email = $"  {email} ", password = "password1" });

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var body = await response.ReadObjectAsync();
        body["email"]!.GetValue<string>().Should().Be(email);
        Guid.TryParse(body["id"]!.GetValue<string>(), out _).Should().BeTrue();
        body.ContainsKey("password_hash").Should().BeFalse();
    }

    [Theory]
    [InlineData(null, "is required")]
    [InlineData("", "must not be empty")]
    [InlineData("   ", "must not be empty")]
    [InlineData("no-at-sign.example.com", "must look like local@domain.tld")]
    [InlineData("a@nodot", "must look like local@domain.tld")]
    [InlineData("a b@example.com", "must look like local@domain.tld")]
    [InlineData("a@@example.com", "must look like local@domain.tld")]
    public async Task Register_invalid_email_returns_400_naming_email(string? email, string rule)
    {
        var response = await _client.PostJsonAsync("/auth/register", new { email, password = "password1" });
        await response.ShouldBeValidationErrorAsync("email", rule);
    }

    [Fact]
    public async Task Register_email_over_254_characters_returns_400()
    {
        var email = new string('a', 250) + "@example.com";
        var response = await _client.PostJsonAsync("/auth/register", new { email, password = "password1" });
        await response.ShouldBeValidationErrorAsync("email", "at most 254");
    }

    [Theory]
    [InlineData(null, "is required")]
    [InlineData("short77", "8 to 1024")]
    public async Task Register_invalid_password_returns_400_naming_password(string? password, string rule)
    {
        var response = await _client.PostJsonAsync("/auth/register", new { email = Api.UniqueEmail(), password });
        await response.ShouldBeValidationErrorAsync("password", rule);
    }

    [Fact]
    public async Task Register_password_limits_are_inclusive()
    {
        (await _client.PostJsonAsync("/auth/register", new { email = Api.UniqueEmail(), password = new string('x', 8) }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await _client.PostJsonAsync("/auth/register", new { email = Api.UniqueEmail(), password = new string('x', 1024) }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        await (await _client.PostJsonAsync("/auth/register", new { email = Api.UniqueEmail(), password = new string('x', 1025) }))
            .ShouldBeValidationErrorAsync("password", "8 to 1024");
    }

    [Fact]
    public async Task Register_taken_email_in_other_case_returns_409()
    {
        var email = Api.UniqueEmail();
        (await _client.PostJsonAsync("/auth/register", new { email, password = "password1" })).EnsureSuccessStatusCode();

        var again = await _client.PostJsonAsync("/auth/register", new { email = " " + email.ToUpperInvariant(), password = "password2" });

        var problem = await again.ShouldBeProblemAsync(409);
        problem["errors"]!["email"]![0]!.GetValue<string>().Should().Be("is already registered");
    }

    [Fact]
    public async Task Register_concurrent_same_email_creates_exactly_one()
    {
        var email = Api.UniqueEmail();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            _client.PostJsonAsync("/auth/register", new { email, password = "password1" })));
        responses.Count(r => r.StatusCode == HttpStatusCode.Created).Should().Be(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.Conflict).Should().Be(7);
    }

    [Theory]
    [InlineData("{\"email\": \"a@example.com\", ", "body")]
    [InlineData("not json", "body")]
    [InlineData("{\"email\": 42, \"password\": \"password1\"}", "email")]
    [InlineData("{\"email\": \"a@example.com\", \"password\": true}", "password")]
    [InlineData("[1, 2]", "body")]
    public async Task Register_malformed_json_or_wrong_type_returns_400(string body, string field)
    {
        var response = await _client.PostRawAsync("/auth/register", body);
        var problem = await response.ShouldBeProblemAsync(400);
        problem["errors"]!.AsObject().ContainsKey(field).Should().BeTrue(problem.ToJsonString());
    }

    [Fact]
    public async Task Register_wrong_type_names_the_expected_type()
    {
        var response = await _client.PostRawAsync("/auth/register", "{\"email\": 42, \"password\": \"password1\"}");
        await response.ShouldBeValidationErrorAsync("email", "must be a string");
    }

    [Fact]
    public async Task Register_missing_body_returns_400()
    {
        var response = await _client.PostRawAsync("/auth/register", "");
        await response.ShouldBeValidationErrorAsync("body", "is required");
    }

    [Fact]
    public async Task Register_non_json_content_type_returns_415()
    {
        var response = await _client.PostRawAsync("/auth/register", "email=a@example.com", "application/x-www-form-urlencoded");
        await response.ShouldBeProblemAsync(415);
    }

    [Fact]
    public async Task Register_body_over_64_KiB_returns_413()
    {
        var response = await _client.PostJsonAsync("/auth/register",
            new { email = Api.UniqueEmail(), password = new string('x', 70 * 1024) });
        await response.ShouldBeProblemAsync(413);
    }
}
