using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FlagService.Tests.Infrastructure;

public static class Api
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static string UniqueEmail() => $"user_{Guid.NewGuid():N}@example.com";

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body) =>
        client.PostAsJsonAsync(url, body, Json);

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, object body) =>
        client.PutAsJsonAsync(url, body, Json);

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string url, string body, string contentType = "application/json") =>
        client.PostAsync(url, new StringContent(body, Encoding.UTF8, contentType));

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Json))!;

    public static async Task<JsonObject> ReadObjectAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    // Registers a fresh user and returns a client that sends their token.
    public static async Task<HttpClient> AuthenticatedClientAsync(this AppFixture app, string? email = null)
    {
        var client = app.CreateClient();
        var token = await client.RegisterAndLoginAsync(email ?? UniqueEmail());
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public static async Task<string> RegisterAndLoginAsync(this HttpClient client, string email, string password = "correct horse battery")
    {
        (await client.PostJsonAsync("/auth/register", new { email, password })).EnsureSuccessStatusCode();
        var login = await client.PostJsonAsync("/auth/login", new { email, password });
        login.EnsureSuccessStatusCode();
        return (await login.ReadObjectAsync())["token"]!.GetValue<string>();
    }

    public static async Task<JsonObject> CreateProjectAsync(this HttpClient client, string name = "Web shop")
    {
        var response = await client.PostJsonAsync("/api/projects", new { name });
        response.EnsureSuccessStatusCode();
        return await response.ReadObjectAsync();
    }

    // Asserts an RFC 9457 body and returns it.
    public static async Task<JsonObject> ShouldBeProblemAsync(this HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).Should().Be(status, body);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json", body);
        var problem = JsonNode.Parse(body)!.AsObject();
        problem["status"]!.GetValue<int>().Should().Be(status);
        problem["title"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        return problem;
    }

    // Asserts a 400 validation problem naming field with a message containing rule.
    public static async Task ShouldBeValidationErrorAsync(this HttpResponseMessage response, string field, string rule)
    {
        var problem = await response.ShouldBeProblemAsync(400);
        var errors = problem["errors"]?.AsObject();
        errors.Should().NotBeNull(problem.ToJsonString());
        errors!.ContainsKey(field).Should().BeTrue($"errors should name '{field}': {problem.ToJsonString()}");
        errors[field]!.AsArray().Select(m => m!.GetValue<string>()).Should().Contain(m => m.Contains(rule), problem.ToJsonString());
    }
}
