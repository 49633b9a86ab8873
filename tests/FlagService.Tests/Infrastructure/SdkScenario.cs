using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace FlagService.Tests.Infrastructure;

// A project seen from both sides: the owner's management client and an SDK client with its key.
public sealed class SdkScenario
{
    private SdkScenario(HttpClient owner, string projectId, string sdkKey)
    {
        Owner = owner;
        ProjectId = projectId;
        SdkKey = sdkKey;
    }

    public HttpClient Owner { get; }
    public string ProjectId { get; }
    public string SdkKey { get; set; }
    public string Flags => $"/api/projects/{ProjectId}/flags";

    public static async Task<SdkScenario> CreateAsync(AppFixture app)
    {
        var owner = await app.AuthenticatedClientAsync();
        var project = await owner.CreateProjectAsync();
        return new SdkScenario(owner, project["id"]!.GetValue<string>(), project["sdk_key"]!.GetValue<string>());
    }

    public async Task<string> CreateFlagAsync(string key, bool enabled = true, int rollout = 0)
    {
        var response = await Owner.PostJsonAsync(Flags, new { name = key, key, enabled, rollout_percentage = rollout });
        response.EnsureSuccessStatusCode();
        return (await response.ReadObjectAsync())["id"]!.GetValue<string>();
    }

    public async Task AddRuleAsync(string flagId, object rule) =>
        (await Owner.PostJsonAsync($"{Flags}/{flagId}/rules", rule)).EnsureSuccessStatusCode();

    public Task<HttpResponseMessage> EvaluateRawAsync(HttpClient client, object? body, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/evaluate") { Content = JsonContent.Create(body ?? new { }, options: Api.Json) };
        request.Headers.Add("X-SDK-Key", key ?? SdkKey);
        return client.SendAsync(request);
    }

    public async Task<JsonObject> EvaluateAsync(HttpClient client, object? body = null)
    {
        var response = await EvaluateRawAsync(client, body);
        response.EnsureSuccessStatusCode();
        return await response.ReadObjectAsync();
    }

    // Kept for the tests that name it; Eventually is the helper.
    public static Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within) => Eventually.TrueAsync(condition, within);
}
