using System.Net.Http.Headers;
using System.Text;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Members;

// Every management route of a project, called by an owner, an editor, a viewer, a non-member and an
// owner's API token capped at viewer: the callers below the route's role get 403 naming that role
// (404 for the non-member), the least role allowed succeeds.
public sealed class RoleMatrixTests(AppFixture app) : IClassFixture<AppFixture>
{
    // AllowedTitle: the problem the least role allowed gets when the route itself has nothing to show.
    public sealed record Route(string Method, string Path, string? Body, string Role, string? AllowedTitle = null);

    private static readonly string Later = TeamScenario.Later;

    // {p} project, {f} flag, {r} rule, {s} segment, {c} schedule, {u} the editor's user id.
    public static readonly Route[] Routes =
    [
        new("GET", "/api/projects/{p}", null, "viewer"),
        new("PUT", "/api/projects/{p}", """{"name":"Renamed"}""", "owner"),
        new("POST", "/api/projects/{p}/regenerate-key", null, "owner"),
        new("DELETE", "/api/projects/{p}", null, "owner"),
        new("GET", "/api/projects/{p}/members", null, "viewer"),
        new("POST", "/api/projects/{p}/members", """{"email":"someone@example.com","role":"viewer"}""", "owner"),
        new("PUT", "/api/projects/{p}/members/{u}", """{"role":"viewer"}""", "owner"),
        new("GET", "/api/projects/{p}/environments", null, "viewer"),
        new("GET", "/api/projects/{p}/environments/staging", null, "viewer"),
        new("POST", "/api/projects/{p}/environments", """{"key":"qa","name":"QA"}""", "owner"),
        new("PUT", "/api/projects/{p}/environments/staging", """{"name":"Stage"}""", "owner"),
        new("DELETE", "/api/projects/{p}/environments/staging", null, "owner"),
        new("POST", "/api/projects/{p}/environments/staging/regenerate-keys", null, "owner"),
        new("POST", "/api/projects/{p}/environments/staging/copy-from/production", "{}", "editor"),
        new("GET", "/api/projects/{p}/flags", null, "viewer"),
        new("GET", "/api/projects/{p}/flags/{f}", null, "viewer"),
        new("POST", "/api/projects/{p}/flags", """{"name":"B","key":"b"}""", "editor"),
        new("PUT", "/api/projects/{p}/flags/{f}", """{"enabled":true}""", "editor"),
        new("POST", "/api/projects/{p}/flags/{f}/toggle", null, "editor"),
        new("DELETE", "/api/projects/{p}/flags/{f}", null, "editor"),
        new("GET", "/api/projects/{p}/environments/staging/flags/{f}", null, "viewer"),
        new("PUT", "/api/projects/{p}/environments/staging/flags/{f}", """{"rollout_percentage":10}""", "editor"),
        new("POST", "/api/projects/{p}/environments/staging/flags/{f}/toggle", null, "editor"),
        new("GET", "/api/projects/{p}/flags/{f}/rules", null, "viewer"),
        new("GET", "/api/projects/{p}/flags/{f}/rules/{r}", null, "viewer"),
        new("POST", "/api/projects/{p}/flags/{f}/rules", """{"rule_type":"user_id","rule_value":"u1"}""", "editor"),
        new("PUT", "/api/projects/{p}/flags/{f}/rules/{r}", """{"priority":5}""", "editor"),
        new("DELETE", "/api/projects/{p}/flags/{f}/rules/{r}", null, "editor"),
        new("GET", "/api/projects/{p}/segments", null, "viewer"),
        new("GET", "/api/projects/{p}/segments/{s}", null, "viewer"),
        new("POST", "/api/projects/{p}/segments", """{"key":"vip2","name":"VIP 2"}""", "editor"),
        new("PUT", "/api/projects/{p}/segments/{s}", """{"name":"Very important"}""", "editor"),
        new("POST", "/api/projects/{p}/segments/{s}/included", """{"add":["u1"]}""", "editor"),
        new("DELETE", "/api/projects/{p}/segments/{s}", null, "editor"),
        new("GET", "/api/projects/{p}/environments/production/flags/{f}/schedules", null, "viewer"),
        new("GET", "/api/projects/{p}/environments/production/flags/{f}/schedules/{c}", null, "viewer"),
        new("POST", "/api/projects/{p}/environments/production/flags/{f}/schedules", $$$"""{"at":"{{{Later}}}","change":{"enabled":true}}""", "editor"),
        new("DELETE", "/api/projects/{p}/environments/production/flags/{f}/schedules/{c}", null, "editor"),
        new("GET", "/api/projects/{p}/flags/{f}/stats", null, "viewer"),
        new("GET", "/api/projects/{p}/flags/{f}/evaluations?user=u1", null, "viewer", "Not evaluated"),
    ];

    public static TheoryData<string, string> RouteData()
    {
        var data = new TheoryData<string, string>();
        foreach (var route in Routes)
        {
            data.Add(route.Method, route.Path);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RouteData))]
    public async Task Route_called_by_each_role_gets_the_expected_status(string method, string path)
    {
        var route = Routes.Single(r => r.Method == method && r.Path == path);
        var team = await TeamScenario.CreateAsync(app);
        var url = team.Expand(route.Path);

        await (await TeamScenario.SendAsync(team.Stranger, route.Method, url, route.Body)).ShouldBeProblemAsync(404);
        var rank = new[] { "viewer", "editor", "owner" };
        var needed = Array.IndexOf(rank, route.Role);
        var callers = new[] { ("viewer", team.Viewer), ("editor", team.Editor), ("owner", team.Owner) };
        foreach (var (role, client) in callers.Where(c => Array.IndexOf(rank, c.Item1) < needed))
        {
            var problem = await (await TeamScenario.SendAsync(client, route.Method, url, route.Body)).ShouldBeProblemAsync(403);
            problem["required_role"]!.GetValue<string>().Should().Be(route.Role, $"{role} on {method} {path}");
            problem["detail"]!.GetValue<string>().Should().Contain(route.Role);
        }
        if (route.Path.Contains("/members") && route.Method != "GET")
        {
            // Managing members needs a login: even an owner's token is refused.
            var problem = await (await TeamScenario.SendAsync(team.ViewerToken, route.Method, url, route.Body)).ShouldBeProblemAsync(403);
            problem["title"]!.GetValue<string>().Should().Be("Personal login required");
        }
        else if (needed > 0)
        {
            // The owner's own token, capped at viewer, is refused what a viewer is refused.
            var problem = await (await TeamScenario.SendAsync(team.ViewerToken, route.Method, url, route.Body)).ShouldBeProblemAsync(403);
            problem["required_role"]!.GetValue<string>().Should().Be(route.Role);
        }
        else
        {
            await ShouldBeAllowedAsync(route, await TeamScenario.SendAsync(team.ViewerToken, route.Method, url, route.Body), "viewer token");
        }

        await ShouldBeAllowedAsync(route, await TeamScenario.SendAsync(callers[needed].Item2, route.Method, url, route.Body), callers[needed].Item1);
    }

    private static async Task ShouldBeAllowedAsync(Route route, HttpResponseMessage response, string caller)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (route.AllowedTitle is not null)
        {
            (await response.ShouldBeProblemAsync(404))["title"]!.GetValue<string>().Should().Be(route.AllowedTitle, body);
            return;
        }
        ((int)response.StatusCode).Should().BeInRange(200, 299, $"{caller} on {route.Method} {route.Path}: {body}");
    }

    [Fact]
    public async Task Token_capped_to_one_project_gets_404_for_the_callers_other_projects()
    {
        var team = await TeamScenario.CreateAsync(app);
        var other = (await team.Owner.CreateProjectAsync("Other"))["id"]!.GetValue<string>();

        var capped = await TeamScenario.TokenClientAsync(app, team.Owner, new { name = "ci", role = "owner", project_id = team.ProjectId });

        (await capped.GetAsync($"/api/projects/{other}")).StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
        (await capped.GetAsync($"/api/projects/{team.ProjectId}")).StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
        var listed = await (await capped.GetAsync("/api/projects")).ReadAsync<System.Text.Json.Nodes.JsonArray>();
        listed.Select(p => p!["id"]!.GetValue<string>()).Should().Equal(team.ProjectId);
    }

    [Fact]
    public async Task Server_key_is_shown_to_owners_only()
    {
        var team = await TeamScenario.CreateAsync(app);
        var url = team.Expand("/api/projects/{p}/environments/production");

        var asOwner = await (await team.Owner.GetAsync(url)).ReadObjectAsync();
        var asEditor = await (await team.Editor.GetAsync(url)).ReadObjectAsync();
        var asViewer = await (await team.Viewer.GetAsync(url)).ReadObjectAsync();

        asOwner["server_key"]!.GetValue<string>().Should().StartWith("srv_");
        asEditor["server_key"].Should().BeNull();
        asViewer["server_key"].Should().BeNull();
        asViewer["sdk_key"]!.GetValue<string>().Should().Be(asOwner["sdk_key"]!.GetValue<string>());
    }

}
