using System.Text.Json.Nodes;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Projects;

// Every operation of a project that the OpenAPI document lists, called by an owner, an editor, a
// viewer, a non-member, the owner's API token capped at viewer and the owner's token capped to
// another project, against the README's role table below. A route without a line in the table, or
// mapped without RequireProjectRole (the document's x-required-role), fails the walk.
public sealed class ProjectRoutesTests(AppFixture app) : IClassFixture<AppFixture>
{
    private const string Owner = "owner";
    private const string Editor = "editor";
    private const string Viewer = "viewer";
    private const string ProjectPrefix = "/api/projects/{projectId}";

    // Filter: the role RequireProjectRole states when the route lets less than Role through for the
    // caller's own resource (a member may remove themselves); JwtOnly: tokens are refused outright;
    // Values: path values that differ from the shared ones.
    private sealed record Expected(string Role, string? Filter = null, bool JwtOnly = false, Dictionary<string, string>? Values = null);

    // The README's role table: owner for members, environments, keys and deleting the project;
    // editor for flags, rules, variants, segments, schedules and per-environment state; viewer reads.
    private static readonly Dictionary<string, Expected> Table = new()
    {
        ["GET /api/projects/{projectId}"] = new(Viewer),
        ["PUT /api/projects/{projectId}"] = new(Owner),
        ["DELETE /api/projects/{projectId}"] = new(Owner),
        ["POST /api/projects/{projectId}/regenerate-key"] = new(Owner),
        ["GET /api/projects/{projectId}/members"] = new(Viewer),
        ["POST /api/projects/{projectId}/members"] = new(Owner, JwtOnly: true),
        ["PUT /api/projects/{projectId}/members/{userId}"] = new(Owner, JwtOnly: true),
        ["DELETE /api/projects/{projectId}/members/{userId}"] = new(Owner, Filter: Viewer, JwtOnly: true),
        ["GET /api/projects/{projectId}/environments"] = new(Viewer),
        ["POST /api/projects/{projectId}/environments"] = new(Owner),
        ["GET /api/projects/{projectId}/environments/{env}"] = new(Viewer),
        ["PUT /api/projects/{projectId}/environments/{env}"] = new(Owner),
        ["DELETE /api/projects/{projectId}/environments/{env}"] = new(Owner),
        ["POST /api/projects/{projectId}/environments/{env}/regenerate-keys"] = new(Owner),
        // Promotion copies flag state: an editor's change, into staging so the shared rule stays.
        ["POST /api/projects/{projectId}/environments/{env}/copy-from/{source}"] =
            new(Editor, Values: new() { ["env"] = "staging", ["source"] = "production" }),
        ["GET /api/projects/{projectId}/audit"] = new(Viewer),
        ["GET /api/projects/{projectId}/flags"] = new(Viewer),
        ["POST /api/projects/{projectId}/flags"] = new(Editor),
        ["GET /api/projects/{projectId}/flags/{flagId}"] = new(Viewer),
        ["PUT /api/projects/{projectId}/flags/{flagId}"] = new(Editor),
        ["DELETE /api/projects/{projectId}/flags/{flagId}"] = new(Editor),
        ["POST /api/projects/{projectId}/flags/{flagId}/toggle"] = new(Editor),
        ["GET /api/projects/{projectId}/environments/{env}/flags"] = new(Viewer),
        ["POST /api/projects/{projectId}/environments/{env}/flags"] = new(Editor),
        ["GET /api/projects/{projectId}/environments/{env}/flags/{flagId}"] = new(Viewer),
        ["PUT /api/projects/{projectId}/environments/{env}/flags/{flagId}"] = new(Editor),
        ["DELETE /api/projects/{projectId}/environments/{env}/flags/{flagId}"] = new(Editor),
        ["POST /api/projects/{projectId}/environments/{env}/flags/{flagId}/toggle"] = new(Editor),
        ["GET /api/projects/{projectId}/flags/{flagId}/rules"] = new(Viewer),
        ["POST /api/projects/{projectId}/flags/{flagId}/rules"] = new(Editor),
        ["GET /api/projects/{projectId}/flags/{flagId}/rules/{ruleId}"] = new(Viewer),
        ["PUT /api/projects/{projectId}/flags/{flagId}/rules/{ruleId}"] = new(Editor),
        ["DELETE /api/projects/{projectId}/flags/{flagId}/rules/{ruleId}"] = new(Editor),
        ["GET /api/projects/{projectId}/environments/{env}/flags/{flagId}/rules"] = new(Viewer),
        ["POST /api/projects/{projectId}/environments/{env}/flags/{flagId}/rules"] = new(Editor),
        ["GET /api/projects/{projectId}/environments/{env}/flags/{flagId}/rules/{ruleId}"] = new(Viewer),
        ["PUT /api/projects/{projectId}/environments/{env}/flags/{flagId}/rules/{ruleId}"] = new(Editor),
        ["DELETE /api/projects/{projectId}/environments/{env}/flags/{flagId}/rules/{ruleId}"] = new(Editor),
        ["GET /api/projects/{projectId}/segments"] = new(Viewer),
        ["POST /api/projects/{projectId}/segments"] = new(Editor),
        ["GET /api/projects/{projectId}/segments/{segmentId}"] = new(Viewer),
        ["PUT /api/projects/{projectId}/segments/{segmentId}"] = new(Editor),
        ["DELETE /api/projects/{projectId}/segments/{segmentId}"] = new(Editor),
        ["POST /api/projects/{projectId}/segments/{segmentId}/{list}"] = new(Editor),
        ["GET /api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules"] = new(Viewer),
        ["POST /api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules"] = new(Editor),
        ["GET /api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules/{scheduleId}"] = new(Viewer),
        ["DELETE /api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules/{scheduleId}"] = new(Editor),
        ["GET /api/projects/{projectId}/flags/{flagId}/stats"] = new(Viewer),
        // Without ?user= the handler answers 400: past the filter, with nothing recorded to show.
        ["GET /api/projects/{projectId}/flags/{flagId}/evaluations"] = new(Viewer),
    };

    private sealed record Operation(string Method, string Template, string? RequiredRole)
    {
        public string Name => $"{Method} {Template}";

        // Deepest first, so a resource goes before what contains it and the project goes last.
        public int Depth => Template.Count(c => c == '/');
    }

    [Fact]
    public async Task Every_project_operation_answers_each_caller_as_the_role_table_says()
    {
        var operations = await ProjectOperationsAsync();
        operations.Select(o => o.Name).Should().BeEquivalentTo(Table.Keys,
            "every operation of a project states its role in the table (and the table names no route that is gone)");
        var failures = new List<string>();
        foreach (var operation in operations.Where(o => Table.ContainsKey(o.Name)))
        {
            var needed = Table[operation.Name].Filter ?? Table[operation.Name].Role;
            if (operation.RequiredRole != needed)
            {
                failures.Add($"{operation.Name}: maps RequireProjectRole({operation.RequiredRole ?? "none"}), the table says {needed}");
            }
        }

        var team = await Team.CreateAsync(app);
        // Reads and writes first, the deletes after them, deepest first (the project's own last):
        // each delete gets a resource of its own, so the others keep theirs.
        var writesFirst = operations.Where(o => o.Method != "DELETE")
            .Concat(operations.Where(o => o.Method == "DELETE").OrderByDescending(o => o.Depth));
        foreach (var operation in writesFirst.Where(o => Table.ContainsKey(o.Name)))
        {
            failures.AddRange(await CheckAsync(team, operation, Table[operation.Name]));
        }
        string.Join(Environment.NewLine, failures).Should().BeEmpty("every failure is listed");
    }

    private async Task<Operation[]> ProjectOperationsAsync()
    {
        var document = JsonNode.Parse(await app.CreateClient().GetStringAsync("/openapi/v1.json"))!;
        return document["paths"]!.AsObject()
            .Where(path => path.Key.StartsWith(ProjectPrefix, StringComparison.Ordinal))
            .SelectMany(path => path.Value!.AsObject().Select(op => new Operation(
                op.Key.ToUpperInvariant(), path.Key, op.Value!["x-required-role"]?.GetValue<string>())))
            .ToArray();
    }

    private static async Task<List<string>> CheckAsync(Team team, Operation operation, Expected expected)
    {
        var failures = new List<string>();
        var url = await team.UrlAsync(operation, expected);
        // A body that binds: the handler answers 400 to what it misses, which is past the filter.
        var body = operation.Method is "POST" or "PUT" ? "{}" : null;
        async Task<(int Status, JsonObject? Problem, string Body)> CallAsync(HttpClient client)
        {
            var response = await TeamScenario.SendAsync(client, operation.Method, url, body);
            var text = await response.Content.ReadAsStringAsync();
            var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                ? JsonNode.Parse(text)?.AsObject() : null;
            return ((int)response.StatusCode, problem, text);
        }
        void Expect(string caller, (int Status, JsonObject? Problem, string Body) answer, int status, Func<JsonObject, bool> check, string what)
        {
            if (answer.Status != status || answer.Problem is null || !check(answer.Problem))
            {
                failures.Add($"{operation.Name} as {caller}: expected {status} problem details {what}, got {answer.Status} {answer.Body}");
            }
        }
        static bool Named(JsonObject problem, string role) => problem["required_role"]?.GetValue<string>() == role;
        static bool PersonalLogin(JsonObject problem) => problem["title"]?.GetValue<string>() == "Personal login required";

        Expect("a non-member", await CallAsync(team.Stranger), 404, _ => true, "(not found)");
        if (expected.JwtOnly)
        {
            Expect("a token capped to another project", await CallAsync(team.ForeignToken), 403, PersonalLogin, "asking for a login");
            Expect("a viewer token", await CallAsync(team.ViewerToken), 403, PersonalLogin, "asking for a login");
        }
        else
        {
            Expect("a token capped to another project", await CallAsync(team.ForeignToken), 404, _ => true, "(not found)");
            if (expected.Role != Viewer)
            {
                Expect("a viewer token", await CallAsync(team.ViewerToken), 403, p => Named(p, expected.Role), $"naming required_role {expected.Role}");
            }
            else
            {
                Allowed("a viewer token", await CallAsync(team.ViewerToken));
            }
        }
        var rank = new[] { Viewer, Editor, Owner };
        foreach (var role in rank.TakeWhile(r => r != expected.Role))
        {
            Expect($"a {role}", await CallAsync(team.Members[role]), 403, p => Named(p, expected.Role), $"naming required_role {expected.Role}");
        }
        // Last: for the deletes, the one call that changes something.
        Allowed($"the {expected.Role}", await CallAsync(team.Members[expected.Role]));
        return failures;

        // Past the filter: neither refused (403), nor hidden (404), nor broken.
        void Allowed(string caller, (int Status, JsonObject? Problem, string Body) answer)
        {
            if (answer.Status is 403 or 404 or >= 500)
            {
                failures.Add($"{operation.Name} as {caller}: expected the filter to let it through, got {answer.Status} {answer.Body}");
            }
        }
    }

    // One project with one of everything, its three members, a stranger, the owner's token capped at
    // viewer and the owner's token capped to the owner's other project. The shared path values are
    // real ids; each delete gets a fresh resource (Fresh) so the walk can go on after it.
    private sealed class Team
    {
        private readonly AppFixture _app;
        private readonly Dictionary<string, string> _values;
        private int _fresh;

        private Team(AppFixture app, TeamScenario.Team team, HttpClient foreignToken)
        {
            _app = app;
            Members = new() { [Owner] = team.Owner, [Editor] = team.Editor, [Viewer] = team.Viewer };
            Stranger = team.Stranger;
            ViewerToken = team.ViewerToken;
            ForeignToken = foreignToken;
            _values = new()
            {
                ["projectId"] = team.ProjectId, ["env"] = "production", ["flagId"] = team.Ids["{f}"], ["ruleId"] = team.Ids["{r}"],
                ["segmentId"] = team.Ids["{s}"], ["scheduleId"] = team.Ids["{c}"], ["userId"] = team.Ids["{u}"], ["list"] = "included",
                ["source"] = "staging",
            };
        }

        public Dictionary<string, HttpClient> Members { get; }
        public HttpClient Stranger { get; }
        public HttpClient ViewerToken { get; }
        public HttpClient ForeignToken { get; }

        private string P => $"/api/projects/{_values["projectId"]}";

        public static async Task<Team> CreateAsync(AppFixture app)
        {
            var team = await TeamScenario.CreateAsync(app);
            var other = (await team.Owner.CreateProjectAsync("Other"))["id"]!.GetValue<string>();
            var foreign = await TeamScenario.TokenClientAsync(app, team.Owner, new { name = "elsewhere", role = "owner", project_id = other });
            return new Team(app, team, foreign);
        }

        public async Task<string> UrlAsync(Operation operation, Expected expected)
        {
            var values = new Dictionary<string, string>(_values);
            foreach (var (name, value) in expected.Values ?? [])
            {
                values[name] = value;
            }
            var names = System.Text.RegularExpressions.Regex.Matches(operation.Template, @"\{(\w+)\}").Select(m => m.Groups[1].Value).ToArray();
            if (operation.Method == "DELETE" && names[^1] != "projectId")
            {
                values[names[^1]] = await FreshAsync(names[^1]);
            }
            return names.Aggregate(operation.Template, (path, name) => path.Replace("{" + name + "}", values[name]));
        }

        // A resource of the kind the path parameter names, made by the owner, for one delete.
        private async Task<string> FreshAsync(string parameter)
        {
            var owner = Members[Owner];
            var n = ++_fresh;
            var flag = _values["flagId"];
            switch (parameter)
            {
                case "flagId":
                    return await TeamScenario.Created(await owner.PostJsonAsync($"{P}/flags", new { name = $"Fresh {n}", key = $"fresh-{n}" }));
                case "ruleId":
                    return await TeamScenario.Created(await owner.PostJsonAsync($"{P}/flags/{flag}/rules", new { rule_type = "user_id", rule_value = $"u{n}" }));
                case "segmentId":
                    return await TeamScenario.Created(await owner.PostJsonAsync($"{P}/segments", new { key = $"fresh-{n}", name = $"Fresh {n}" }));
                case "scheduleId":
                    return await TeamScenario.Created(await owner.PostRawAsync($"{P}/environments/production/flags/{flag}/schedules",
                        $$$"""{"at":"{{{TeamScenario.Later}}}","change":{"enabled":true}}"""));
                case "env":
                    (await owner.PostJsonAsync($"{P}/environments", new { key = $"fresh-{n}", name = $"Fresh {n}" })).EnsureSuccessStatusCode();
                    return $"fresh-{n}";
                case "userId":
                    var email = Api.UniqueEmail();
                    await _app.AuthenticatedClientAsync(email);
                    (await owner.PostJsonAsync($"{P}/members", new { email, role = Viewer })).EnsureSuccessStatusCode();
                    var members = await (await owner.GetAsync($"{P}/members")).ReadAsync<JsonArray>();
                    return members.Single(m => m!["email"]!.GetValue<string>() == email)!["user_id"]!.GetValue<string>();
                default:
                    throw new InvalidOperationException($"No fresh resource for {{{parameter}}}: teach FreshAsync to make one.");
            }
        }
    }

    [Fact]
    public async Task Token_capped_to_one_project_lists_only_that_project()
    {
        var team = await TeamScenario.CreateAsync(app);
        await team.Owner.CreateProjectAsync("Other");

        var capped = await TeamScenario.TokenClientAsync(app, team.Owner, new { name = "ci", role = "owner", project_id = team.ProjectId });

        var listed = await (await capped.GetAsync("/api/projects")).ReadAsync<JsonArray>();
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
        var listedToViewer = await (await team.Viewer.GetAsync(team.Expand("/api/projects/{p}/environments"))).ReadAsync<JsonArray>();

        asOwner["server_key"]!.GetValue<string>().Should().StartWith("srv_");
        asEditor["server_key"].Should().BeNull();
        asViewer["server_key"].Should().BeNull();
        listedToViewer.Should().OnlyContain(e => e!["server_key"] == null);
        asViewer["sdk_key"]!.GetValue<string>().Should().Be(asOwner["sdk_key"]!.GetValue<string>());
    }
}
