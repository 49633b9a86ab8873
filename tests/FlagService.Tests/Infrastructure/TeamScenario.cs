using System.Net.Http.Headers;
using System.Text;

namespace FlagService.Tests.Infrastructure;

// A project with one of everything (flag, rule, segment, schedule), an owner, an editor, a viewer,
// a non-member, and the owner's API token capped at viewer.
public static class TeamScenario
{
    public static readonly string Later = DateTimeOffset.UtcNow.AddDays(30).ToString("O");

    public sealed record Team(
        HttpClient Owner, HttpClient Editor, HttpClient Viewer, HttpClient Stranger, HttpClient ViewerToken, string ProjectId,
        Dictionary<string, string> Ids)
    {
        public string Expand(string path) => Ids.Aggregate(path, (p, id) => p.Replace(id.Key, id.Value));
    }

    // A fresh project with one of everything, an editor and a viewer.
    public static async Task<Team> CreateAsync(AppFixture app)
    {
        var owner = await app.AuthenticatedClientAsync();
        var editorEmail = Api.UniqueEmail();
        var viewerEmail = Api.UniqueEmail();
        var editor = await app.AuthenticatedClientAsync(editorEmail);
        var viewer = await app.AuthenticatedClientAsync(viewerEmail);
        var stranger = await app.AuthenticatedClientAsync();
        var projectId = (await owner.CreateProjectAsync())["id"]!.GetValue<string>();
        var p = $"/api/projects/{projectId}";
        (await owner.PostJsonAsync($"{p}/members", new { email = editorEmail, role = "editor" })).EnsureSuccessStatusCode();
        (await owner.PostJsonAsync($"{p}/members", new { email = viewerEmail, role = "viewer" })).EnsureSuccessStatusCode();
        var members = await (await owner.GetAsync($"{p}/members")).ReadAsync<System.Text.Json.Nodes.JsonArray>();
        var editorId = members.Single(m => m!["email"]!.GetValue<string>() == editorEmail)!["user_id"]!.GetValue<string>();

        var flag = await Created(await owner.PostJsonAsync($"{p}/flags", new { name = "A", key = "a" }));
        var rule = await Created(await owner.PostJsonAsync($"{p}/flags/{flag}/rules", new { rule_type = "email_domain", rule_value = "@example.com" }));
        var segment = await Created(await owner.PostJsonAsync($"{p}/segments", new { key = "vip", name = "VIP" }));
        var schedule = await Created(await owner.PostRawAsync($"{p}/environments/production/flags/{flag}/schedules",
            $$$"""{"at":"{{{Later}}}","change":{"enabled":true}}"""));
        var token = await TokenClientAsync(app, owner, new { name = "read-only", role = "viewer" });
        return new Team(owner, editor, viewer, stranger, token, projectId, new()
        {
            ["{p}"] = projectId, ["{f}"] = flag, ["{r}"] = rule, ["{s}"] = segment, ["{c}"] = schedule, ["{u}"] = editorId,
        });
    }

    public static async Task<HttpClient> TokenClientAsync(AppFixture app, HttpClient owner, object request)
    {
        var created = await owner.PostJsonAsync("/api/tokens", request);
        var body = await created.Content.ReadAsStringAsync();
        ((int)created.StatusCode).Should().Be(201, body);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", (await created.ReadObjectAsync())["token"]!.GetValue<string>());
        return client;
    }

    public static async Task<string> Created(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).Should().Be(201, body);
        return System.Text.Json.Nodes.JsonNode.Parse(body)!["id"]!.GetValue<string>();
    }

    public static Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string url, string? body)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        return client.SendAsync(request);
    }
}
