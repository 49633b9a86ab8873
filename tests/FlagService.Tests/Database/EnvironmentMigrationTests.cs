using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Dapper;
using DbUp;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Database;
using FlagService.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlagService.Tests.Database;

// Migrations/0005_environments.sql upgrades a live database: the rows below are what the previous
// version (0001–0004, the slices of cae21f8) wrote, column for column, and every v1 answer must
// come out of the new service unchanged. Expected answers are derived from the seeded rows, not
// from the service, so that a migration that loses or alters state cannot agree with itself.
public sealed class EnvironmentMigrationTests
{
    private const string Password = "correct horse battery";

    // `role` (the caller's, from the teams migration) is the one field added since v1.
    private static readonly string[] ProjectFields = ["id", "name", "description", "sdk_key", "created_at", "updated_at", "role"];
    private static readonly string[] FlagFields =
        ["id", "project_id", "name", "key", "description", "enabled", "rollout_percentage", "created_at", "updated_at"];
    private static readonly string[] RuleFields =
        ["id", "flag_id", "rule_type", "rule_value", "conditions", "rollout_percentage", "enabled", "priority", "created_at", "updated_at"];

    [Fact]
    public async Task Migration_of_a_v1_database_changes_nothing_a_v1_client_sees_and_adds_production_and_staging()
    {
        await using var database = await TestDatabase.CreateAsync();
        var v1 = await V1Database.CreateAsync(database.ConnectionString);

        await using var app = new FlagServiceFactory(database.ConnectionString);
        _ = app.Server; // applies 0005
        await app.ListeningAsync();
        var alice = await LoginAsync(app, v1.Alice.Email);
        var bob = await LoginAsync(app, v1.Bob.Email);

        // Projects: same rows, same v1 fields, newest first, each owner sees only their own.
        await ShouldListProjectsAsync(alice, v1, v1.Alice);
        await ShouldListProjectsAsync(bob, v1, v1.Bob);
        foreach (var project in v1.Projects)
        {
            var owner = project.Owner == v1.Alice ? alice : bob;
            ShouldBeProject(await GetObjectAsync(owner, $"/api/projects/{project.Id}"), project);
        }

        // Flags and rules through the v1 routes, which now mean the default environment.
        foreach (var project in v1.Projects)
        {
            var owner = project.Owner == v1.Alice ? alice : bob;
            var flags = await GetArrayAsync(owner, $"/api/projects/{project.Id}/flags");
            flags.Select(f => f!["id"]!.GetValue<Guid>()).Should()
                .Equal(project.Flags.OrderByDescending(f => f.CreatedAt).Select(f => f.Id), "v1 lists flags newest first");
            foreach (var flag in project.Flags)
            {
                var listed = flags.Single(f => f!["id"]!.GetValue<Guid>() == flag.Id)!.AsObject();
                ShouldBeV1Flag(listed, flag, "production");
                ShouldBeV1Flag(await GetObjectAsync(owner, $"/api/projects/{project.Id}/flags/{flag.Id}"), flag, "production");

                var rules = await GetArrayAsync(owner, $"/api/projects/{project.Id}/flags/{flag.Id}/rules");
                rules.Select(r => r!["id"]!.GetValue<Guid>()).Should()
                    .Equal(flag.EvaluationOrder.Select(r => r.Id), "v1 lists rules by priority, then oldest first, with their ids");
                foreach (var rule in flag.Rules)
                {
                    var one = await GetObjectAsync(owner, $"/api/projects/{project.Id}/flags/{flag.Id}/rules/{rule.Id}");
                    ShouldBeV1Rule(one, rule, flag, "production");
                    ShouldBeV1Rule(rules.Single(r => r!["id"]!.GetValue<Guid>() == rule.Id)!.AsObject(), rule, flag, "production");
                }
            }
        }

        // Analytics before any evaluation: the SDK calls below add counts and latest answers of their own.
        var shop = v1.Shop;
        foreach (var flag in shop.Flags)
        {
            var stats = await GetObjectAsync(alice, StatsUrl(shop, flag, v1));
            ShouldBeV1Stats(stats, flag, v1);
        }
        foreach (var latest in v1.Latest)
        {
            foreach (var (flagId, answer) in latest.Results)
            {
                var evaluation = await GetObjectAsync(alice, $"/api/projects/{latest.Project.Id}/flags/{flagId}/evaluations?user={Uri.EscapeDataString(latest.Identifier)}");
                evaluation.Select(p => p.Key).Should().Contain(new[] { "flag_id", "flag_key", "identifier", "enabled", "reason", "evaluated_at" });
                evaluation["flag_id"]!.GetValue<Guid>().Should().Be(flagId);
                evaluation["flag_key"]!.GetValue<string>().Should().Be(latest.Project.Flags.Single(f => f.Id == flagId).Key);
                evaluation["identifier"]!.GetValue<string>().Should().Be(latest.Identifier);
                evaluation["enabled"]!.GetValue<bool>().Should().Be(answer.Result);
                evaluation["reason"]!.GetValue<string>().Should().Be(answer.Reason);
                evaluation["evaluated_at"]!.GetValue<DateTime>().Should().Be(answer.At);
                evaluation["variant"]!.GetValue<string>().Should().Be(answer.Result ? "on" : "off");
            }
        }
        // A flag the identifier was never evaluated for stays "not evaluated", as in v1.
        var neverEvaluated = shop.Flags.Single(f => f.Key == "everyone");
        (await alice.GetAsync($"/api/projects/{shop.Id}/flags/{neverEvaluated.Id}/evaluations?user=user_1001"))
            .StatusCode.Should().Be(HttpStatusCode.NotFound);

        // Environments: production keeps the project's key, staging is new; both for every project,
        // including one without flags.
        var environments = new Dictionary<Guid, (JsonObject Production, JsonObject Staging)>();
        foreach (var project in v1.Projects)
        {
            var owner = project.Owner == v1.Alice ? alice : bob;
            var list = await GetArrayAsync(owner, $"/api/projects/{project.Id}/environments");
            list.Select(e => e!["key"]!.GetValue<string>()).Should().Equal("production", "staging");
            var production = list[0]!.AsObject();
            var staging = list[1]!.AsObject();
            production["is_default"]!.GetValue<bool>().Should().BeTrue();
            production["sdk_key"]!.GetValue<string>().Should().Be(project.SdkKey);
            production["name"]!.GetValue<string>().Should().Be("Production");
            staging["is_default"]!.GetValue<bool>().Should().BeFalse();
            staging["name"]!.GetValue<string>().Should().Be("Staging");
            foreach (var environment in new[] { production, staging })
            {
                environment["project_id"]!.GetValue<Guid>().Should().Be(project.Id);
                environment["sdk_key"]!.GetValue<string>().Should().MatchRegex("^sdk_[A-Za-z0-9]{32}$");
                environment["server_key"]!.GetValue<string>().Should().MatchRegex("^srv_[A-Za-z0-9]{32}$");
            }
            environments[project.Id] = (production, staging);
        }
        var keys = environments.Values.SelectMany(e => new[] { e.Production, e.Staging })
            .SelectMany(e => new[] { e["sdk_key"]!.GetValue<string>(), e["server_key"]!.GetValue<string>() }).ToList();
        keys.Should().OnlyHaveUniqueItems("every environment of every project has keys of its own");

        // Staging: the same state and copies of the rules (new ids, same content and order).
        foreach (var project in v1.Projects)
        {
            var owner = project.Owner == v1.Alice ? alice : bob;
            var flags = await GetArrayAsync(owner, $"/api/projects/{project.Id}/environments/staging/flags");
            flags.Select(f => f!["id"]!.GetValue<Guid>()).Should().Equal(project.Flags.OrderByDescending(f => f.CreatedAt).Select(f => f.Id));
            foreach (var flag in project.Flags)
            {
                ShouldBeV1Flag(flags.Single(f => f!["id"]!.GetValue<Guid>() == flag.Id)!.AsObject(), flag, "staging");
                ShouldBeV1Flag(await GetObjectAsync(owner, $"/api/projects/{project.Id}/environments/staging/flags/{flag.Id}"), flag, "staging");

                var copies = await GetArrayAsync(owner, $"/api/projects/{project.Id}/environments/staging/flags/{flag.Id}/rules");
                copies.Should().HaveCount(flag.Rules.Length);
                var ordered = flag.EvaluationOrder.ToArray();
                for (var i = 0; i < ordered.Length; i++)
                {
                    var copy = copies[i]!.AsObject();
                    copy["id"]!.GetValue<Guid>().Should().NotBe(ordered[i].Id, "staging's rules are copies, not production's rows");
                    ShouldBeV1Rule(copy, ordered[i] with { Id = copy["id"]!.GetValue<Guid>() }, flag, "staging");
                }
                var copyIds = copies.Select(c => c!["id"]!.GetValue<Guid>()).ToList();
                copyIds.Should().OnlyHaveUniqueItems();
                copyIds.Should().NotIntersectWith(v1.Projects.SelectMany(p => p.Flags).SelectMany(f => f.Rules).Select(r => r.Id));
            }
        }

        // Evaluation: the old sdk_key (now production's) and staging's key give the v1 answers.
        var client = app.CreateClient();
        var expected = new HashSet<(bool, string)>();
        foreach (var context in Contexts())
        {
            foreach (var project in v1.Projects)
            {
                var stagingKey = environments[project.Id].Staging["sdk_key"]!.GetValue<string>();
                foreach (var sdkKey in new[] { project.SdkKey, stagingKey })
                {
                    var answers = await EvaluateAsync(client, sdkKey, context);
                    answers.Select(a => a.Key).Should().BeEquivalentTo(project.Flags.Select(f => f.Key), "one entry for every flag of the project");
                    foreach (var flag in project.Flags)
                    {
                        var want = flag.Evaluate(context);
                        expected.Add(want);
                        var entry = answers[flag.Key]!.AsObject();
                        var because = $"{flag.Key} for {context} with the {(sdkKey == project.SdkKey ? "project's" : "staging")} key";
                        entry["enabled"]!.GetValue<bool>().Should().Be(want.Enabled, because);
                        entry["reason"]!.GetValue<string>().Should().Be(want.Reason, because);
                    }
                }
            }
        }
        // The contexts reach every v1 outcome, so the comparison above is not one answer repeated.
        expected.Should().Contain(new[] { (true, "rule_match"), (false, "rule_match"), (true, "rollout"), (false, "rollout_excluded"), (false, "disabled") });
        var darkMode = shop.Flags.Single(f => f.Key == "dark_mode");
        Contexts().Select(c => darkMode.Evaluate(c).Enabled).Distinct().Should().HaveCount(2, "the 37 % rollout splits the contexts");

        // Spot checks of the reference itself against the documented rules.
        var checkout = shop.Flags.Single(f => f.Key == "new_checkout");
        checkout.Evaluate(new Context(UserId: "user_42")).Should().Be((true, "rule_match"));
        checkout.Evaluate(new Context(UserId: "user_7")).Should().Be((false, "rollout_excluded"), "a disabled rule never matches");
        checkout.Evaluate(new Context(UserEmail: "vip@company.com")).Should().Be((false, "rule_match"), "of two rules of one priority the older decides");
        checkout.Evaluate(new Context(UserEmail: "jo@Company.com")).Should().Be((true, "rule_match"));
        shop.Flags.Single(f => f.Key == "premium_features").Evaluate(new Context(UserId: "user_42")).Should().Be((false, "disabled"));

        // Another user's project stays invisible, through v1 and environment routes alike.
        var mobile = v1.Mobile;
        foreach (var url in new[]
        {
            $"/api/projects/{mobile.Id}", $"/api/projects/{mobile.Id}/flags", $"/api/projects/{mobile.Id}/flags/{mobile.Flags[0].Id}",
            $"/api/projects/{mobile.Id}/flags/{mobile.Flags[0].Id}/rules", $"/api/projects/{mobile.Id}/environments",
            $"/api/projects/{mobile.Id}/environments/staging/flags", $"/api/projects/{mobile.Id}/environments/production/flags/{mobile.Flags[0].Id}/rules",
        })
        {
            (await alice.GetAsync(url)).StatusCode.Should().Be(HttpStatusCode.NotFound, url);
        }
        (await bob.GetAsync($"/api/projects/{shop.Id}/environments")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task App_restarted_on_the_migrated_database_applies_0005_once_and_answers_the_same()
    {
        await using var database = await TestDatabase.CreateAsync();
        var v1 = await V1Database.CreateAsync(database.ConnectionString);

        Dictionary<string, string> before;
        await using (var first = new FlagServiceFactory(database.ConnectionString))
        {
            _ = first.Server;
            before = await ReadEverythingAsync(first, v1);
        }
        var counts = await RowCountsAsync(database.ConnectionString);

        await using var second = new FlagServiceFactory(database.ConnectionString);
        _ = second.Server;
        var after = await ReadEverythingAsync(second, v1);

        after.Should().Equal(before);
        (await RowCountsAsync(database.ConnectionString)).Should().Equal(counts);
        counts["environments"].Should().Be(2 * v1.Projects.Length);
        counts["flag_environments"].Should().Be(2 * v1.Projects.Sum(p => p.Flags.Length));
        counts["targeting_rules"].Should().Be(2 * v1.Projects.Sum(p => p.Flags.Sum(f => f.Rules.Length)));

        await using var db = new NpgsqlConnection(database.ConnectionString);
        var journal = (await db.QueryAsync<string>("SELECT scriptname FROM schemaversions")).ToList();
        journal.Should().OnlyHaveUniqueItems();
        journal.Where(s => s.EndsWith("0005_environments.sql", StringComparison.Ordinal)).Should().ContainSingle();
        journal.Should().HaveCount(typeof(Migrations).Assembly.GetManifestResourceNames().Count(n => n.EndsWith(".sql", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Migration_failing_at_its_last_statement_leaves_the_v1_schema_and_data_untouched()
    {
        await using var database = await TestDatabase.CreateAsync();
        var v1 = await V1Database.CreateAsync(database.ConnectionString);
        var v1Counts = await RowCountsAsync(database.ConnectionString, v1Tables: true);

        // A function of the name 0005 creates last (as a hand-made leftover would) makes the script
        // fail after it has moved every row: only a single transaction puts everything back.
        const string Blocker = "CREATE FUNCTION flag_environments_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$";
        await using (var db = new NpgsqlConnection(database.ConnectionString))
        {
            await db.ExecuteAsync(Blocker);
        }

        var migrate = () => Migrations.Apply(database.ConnectionString, NullLogger.Instance);
        migrate.Should().Throw<InvalidOperationException>().WithMessage("*0005_environments.sql*");

        await using (var db = new NpgsqlConnection(database.ConnectionString))
        {
            (await db.QueryAsync<string>("SELECT scriptname FROM schemaversions")).Should().HaveCount(4);
            (await db.ExecuteScalarAsync<string?>("SELECT to_regclass('public.environments')::text")).Should().BeNull();
            (await db.ExecuteScalarAsync<string?>("SELECT to_regclass('public.flag_environments')::text")).Should().BeNull();
            (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_proc WHERE proname = 'user_projects'")).Should().Be(0);
            var columns = (await db.QueryAsync<string>("""
                SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public'
                """)).ToList();
            columns.Should().Contain(new[] { "projects.sdk_key", "feature_flags.enabled", "feature_flags.rollout_percentage",
                "flag_evaluation_counts.result", "evaluation_latest.project_id" });
            columns.Should().NotContain(new[] { "targeting_rules.environment_id", "flag_evaluation_counts.variant", "evaluation_latest.environment_id" });
            (await db.QueryAsync<string>("SELECT sdk_key FROM projects ORDER BY sdk_key")).Should().Equal(v1.Projects.Select(p => p.SdkKey).Order(StringComparer.Ordinal));
        }
        (await RowCountsAsync(database.ConnectionString, v1Tables: true)).Should().Equal(v1Counts);

        // Once the obstacle is gone the same script lands whole, and the service serves the old key.
        await using (var db = new NpgsqlConnection(database.ConnectionString))
        {
            await db.ExecuteAsync("DROP FUNCTION flag_environments_changed()");
        }
        await using var app = new FlagServiceFactory(database.ConnectionString);
        _ = app.Server;
        var answers = await EvaluateAsync(app.CreateClient(), v1.Shop.SdkKey, new Context(UserId: "user_42"));
        answers["new_checkout"]!["reason"]!.GetValue<string>().Should().Be("rule_match");
    }

    // ---- The previous version's data ----

    private sealed record User(Guid Id, string Email);

    private sealed record Project(Guid Id, User Owner, string Name, string? Description, string SdkKey, DateTime CreatedAt, DateTime UpdatedAt, Flag[] Flags);

    private sealed record Flag(
        Guid Id, string Key, string Name, string? Description, bool Enabled, int RolloutPercentage, DateTime CreatedAt, DateTime UpdatedAt,
        Rule[] Rules)
    {
        // What evaluation tries, in order: enabled or not, rules list the same way.
        public IEnumerable<Rule> EvaluationOrder => Rules.OrderByDescending(r => r.Priority).ThenBy(r => r.CreatedAt);

        // The v1 contract's "Evaluation of one flag", written out independently of the engine.
        public (bool Enabled, string Reason) Evaluate(Context context)
        {
            if (!Enabled)
            {
                return (false, "disabled");
            }
            var identifier = !string.IsNullOrEmpty(context.UserId) ? context.UserId
                : string.IsNullOrWhiteSpace(context.UserEmail) ? null : context.UserEmail.Trim().ToLowerInvariant();
            foreach (var rule in EvaluationOrder.Where(r => r.Enabled))
            {
                if (rule.Matches(context))
                {
                    return (InRollout(rule.RolloutPercentage, identifier), "rule_match");
                }
            }
            var included = InRollout(RolloutPercentage, identifier);
            return (included, included ? "rollout" : "rollout_excluded");
        }

        private bool InRollout(int percentage, string? identifier) =>
            percentage >= 100 || (percentage > 0 && identifier is not null && Bucketing.Bucket(Key, identifier) < percentage);
    }

    private sealed record Rule(
        Guid Id, string RuleType, string? RuleValue, string? Conditions, int RolloutPercentage, bool Enabled, int Priority,
        DateTime CreatedAt, DateTime UpdatedAt, Func<Context, bool> Matches);

    private sealed record Count(Flag Flag, DateTime Minute, bool Result, string Reason, long Value);

    private sealed record Answer(bool Result, string Reason, DateTime At);

    private sealed record Latest(Project Project, string Identifier, Dictionary<Guid, Answer> Results, DateTime UpdatedAt);

    private sealed record Context(string? UserId = null, string? UserEmail = null, Dictionary<string, string>? Attributes = null)
    {
        public string? Attribute(string name) => Attributes?.GetValueOrDefault(name);

        public Dictionary<string, object> Body()
        {
            var body = new Dictionary<string, object>();
            if (UserId is not null) { body["user_id"] = UserId; }
            if (UserEmail is not null) { body["user_email"] = UserEmail; }
            if (Attributes is not null) { body["custom_attributes"] = Attributes; }
            return body;
        }

        public override string ToString() => System.Text.Json.JsonSerializer.Serialize(Body());
    }

    // Contexts that reach every rule type, both sides of each rollout and the rule order.
    private static IEnumerable<Context> Contexts()
    {
        yield return new Context();
        yield return new Context(UserId: "user_42");
        yield return new Context(UserId: "user_7");
        yield return new Context(UserEmail: "  VIP@company.COM ");
        yield return new Context(UserEmail: "jo@Company.com");
        yield return new Context(UserEmail: "jo@notcompany.com");
        yield return new Context(UserEmail: "jo@sub.company.com");
        yield return new Context(UserEmail: "bob@example.com");
        yield return new Context(UserId: "ana", UserEmail: "ana@beta.io", Attributes: new() { ["app_version"] = "2.10.0" });
        yield return new Context(UserId: "ben", UserEmail: "ben@beta.io", Attributes: new() { ["app_version"] = "2.3.9" });
        yield return new Context(UserId: "cy", Attributes: new() { ["app_version"] = "2.4.0" });
        yield return new Context(UserId: "fr_pro", Attributes: new() { ["plan"] = "pro", ["country"] = "FR" });
        yield return new Context(UserId: "no_country", Attributes: new() { ["plan"] = "enterprise" });
        yield return new Context(UserId: "Pro_case", Attributes: new() { ["plan"] = "Pro", ["country"] = "DE" });
        for (var i = 0; i < 12; i++)
        {
            yield return new Context(UserId: $"pro_{i}", Attributes: new() { ["plan"] = i % 2 == 0 ? "pro" : "enterprise", ["country"] = "DE" });
            yield return new Context(UserId: $"user_{i}");
        }
    }

    private sealed class V1Database
    {
        private V1Database(DateTime t0) => T0 = t0;

        // An hour three days back: counts land in whole minutes of it, far from what the SDK calls add.
        public DateTime T0 { get; }
        public User Alice { get; } = new(Guid.NewGuid(), "alice@example.com");
        public User Bob { get; } = new(Guid.NewGuid(), "Bob.Owner@Example.com");
        public Project Shop => Projects[1];
        public Project Mobile => Projects[2];
        public Project[] Projects { get; private set; } = [];
        public Count[] Counts { get; private set; } = [];
        public Latest[] Latest { get; private set; } = [];

        // Microseconds that are not zero, so that a timestamp truncated or rewritten on the way shows.
        private DateTime At(double minutes) => T0.AddMinutes(minutes).AddTicks(1_234_560);

        public static async Task<V1Database> CreateAsync(string connectionString)
        {
            ApplyV1Migrations(connectionString);
            var now = DateTime.UtcNow;
            var data = new V1Database(new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0, DateTimeKind.Utc).AddDays(-3));
            data.Build();
            await data.InsertAsync(connectionString);
            return data;
        }

        private void Build()
        {
            // Conditions exactly as the old RuleValidation.NormalizeConditions stored them.
            const string ProNotFrance = """
                [{"attribute": "plan", "operator": "in", "values": ["pro", "enterprise"], "negate": false, "ignore_case": false},
                 {"attribute": "country", "operator": "in", "values": ["FR"], "negate": true, "ignore_case": false}]
                """;
            const string RecentApp = """
                [{"attribute": "app_version", "operator": "semver_gte", "values": ["2.4.0"], "negate": false, "ignore_case": false}]
                """;
            static bool ProNotFranceMatches(Context c) =>
                c.Attribute("plan") is "pro" or "enterprise" && c.Attribute("country") is { } country && country != "FR";
            static bool RecentAppMatches(Context c) =>
                c.Attribute("app_version") is { } v && Version.Parse(v) >= new Version(2, 4, 0);
            static Func<Context, bool> UserId(string value) => c => c.UserId == value;
            static Func<Context, bool> Email(string value) =>
                c => string.Equals(c.UserEmail?.Trim(), value, StringComparison.OrdinalIgnoreCase);
            static Func<Context, bool> Domain(string value) =>
                c => c.UserEmail?.Trim().EndsWith(value, StringComparison.OrdinalIgnoreCase) == true;

            Rule NewRule(string type, string? value, string? conditions, int rollout, bool enabled, int priority, double minute,
                Func<Context, bool> matches) =>
                new(Guid.NewGuid(), type, value, conditions, rollout, enabled, priority, At(minute), At(minute + 30), matches);

            var empty = new Project(Guid.NewGuid(), Alice, "Archive", null, NewSdkKey(), At(-600), At(-600), []);
            var shop = new Project(Guid.NewGuid(), Alice, "Web shop", "Storefront flags", NewSdkKey(), At(-500), At(-100),
            [
                new Flag(Guid.NewGuid(), "dark_mode", "Dark mode", "Dark theme for the storefront", true, 37, At(-400), At(-350), []),
                new Flag(Guid.NewGuid(), "new_checkout", "New checkout", null, true, 0, At(-390), At(-300),
                [
                    NewRule("attribute_match", null, ProNotFrance, 50, true, 20, -380, ProNotFranceMatches),
                    NewRule("user_id", "user_42", null, 100, true, 10, -379, UserId("user_42")),
                    NewRule("user_email", "VIP@Company.com", null, 0, true, 5, -378, Email("VIP@Company.com")),
                    NewRule("email_domain", "@company.com", null, 100, true, 5, -377, Domain("@company.com")),
                    NewRule("user_id", "user_7", null, 100, false, 100, -376, UserId("user_7")),
                ]),
                new Flag(Guid.NewGuid(), "premium_features", "Premium features", "Paid tier", false, 100, At(-370), At(-370),
                [
                    NewRule("user_id", "user_42", null, 100, true, 0, -369, UserId("user_42")),
                ]),
                new Flag(Guid.NewGuid(), "everyone", "Everyone", null, true, 100, At(-360), At(-360), []),
                new Flag(Guid.NewGuid(), "new_editor", "New editor", "Editor rewrite", true, 0, At(-350), At(-200),
                [
                    NewRule("attribute_match", null, RecentApp, 100, true, 0, -349, RecentAppMatches),
                    NewRule("email_domain", "@beta.io", null, 0, true, 0, -348, Domain("@beta.io")),
                ]),
            ]);
            var mobile = new Project(Guid.NewGuid(), Bob, "Mobile app", "iOS and Android", NewSdkKey(), At(-450), At(-450),
            [
                new Flag(Guid.NewGuid(), "beta", "Beta", null, true, 0, At(-440), At(-440),
                [
                    NewRule("user_email", "bob@example.com", null, 100, true, 0, -439, Email("bob@example.com")),
                ]),
            ]);
            Projects = [empty, shop, mobile];

            var flag = (string key) => shop.Flags.Single(f => f.Key == key);
            Counts =
            [
                new(flag("dark_mode"), T0, true, "rollout", 12),
                new(flag("dark_mode"), T0, false, "rollout_excluded", 20),
                new(flag("dark_mode"), T0.AddMinutes(1), true, "rollout", 3),
                new(flag("dark_mode"), T0.AddMinutes(61), false, "rollout_excluded", 5),
                new(flag("new_checkout"), T0, true, "rule_match", 4),
                new(flag("new_checkout"), T0, false, "rule_match", 2),
                new(flag("new_checkout"), T0.AddMinutes(125), false, "rollout_excluded", 9),
                new(flag("premium_features"), T0.AddMinutes(59), false, "disabled", 7),
                new(mobile.Flags[0], T0, true, "rule_match", 1),
            ];
            Latest =
            [
                new(shop, "user_1001", new()
                {
                    [flag("dark_mode").Id] = new(true, "rollout", At(10)),
                    [flag("new_checkout").Id] = new(false, "rollout_excluded", At(10)),
                    [flag("premium_features").Id] = new(false, "disabled", At(11)),
                }, At(12)),
                new(shop, "carol@example.com", new()
                {
                    [flag("new_checkout").Id] = new(true, "rule_match", At(70)),
                }, At(70)),
            ];
        }

        private async Task InsertAsync(string connectionString)
        {
            var hasher = new PasswordHasher(Options.Create(new PasswordHashingOptions { MemoryKiB = 1024, Iterations = 1 }));
            await using var db = new NpgsqlConnection(connectionString);
            await db.OpenAsync();
            foreach (var user in new[] { Alice, Bob })
            {
                await db.ExecuteAsync("INSERT INTO users (id, email, password_hash, created_at) VALUES (@Id, @Email, @Hash, @CreatedAt)",
                    new { user.Id, user.Email, Hash = hasher.Hash(Password), CreatedAt = At(-1000) });
            }
            foreach (var project in Projects)
            {
                await db.ExecuteAsync("""
                    INSERT INTO projects (id, name, description, sdk_key, created_by, created_at, updated_at)
                    VALUES (@Id, @Name, @Description, @SdkKey, @OwnerId, @CreatedAt, @UpdatedAt)
                    """, new { project.Id, project.Name, project.Description, project.SdkKey, OwnerId = project.Owner.Id, project.CreatedAt, project.UpdatedAt });
                foreach (var flag in project.Flags)
                {
                    await db.ExecuteAsync("""
                        INSERT INTO feature_flags (id, project_id, name, key, description, enabled, rollout_percentage, created_at, updated_at)
                        VALUES (@Id, @ProjectId, @Name, @Key, @Description, @Enabled, @RolloutPercentage, @CreatedAt, @UpdatedAt)
                        """, new { flag.Id, ProjectId = project.Id, flag.Name, flag.Key, flag.Description, flag.Enabled, flag.RolloutPercentage, flag.CreatedAt, flag.UpdatedAt });
                    foreach (var rule in flag.Rules)
                    {
                        await db.ExecuteAsync("""
                            INSERT INTO targeting_rules (id, flag_id, rule_type, rule_value, conditions, rollout_percentage, enabled, priority, created_at, updated_at)
                            VALUES (@Id, @FlagId, @RuleType, @RuleValue, CAST(@Conditions AS jsonb), @RolloutPercentage, @Enabled, @Priority, @CreatedAt, @UpdatedAt)
                            """, new { rule.Id, FlagId = flag.Id, rule.RuleType, rule.RuleValue, rule.Conditions, rule.RolloutPercentage, rule.Enabled, rule.Priority, rule.CreatedAt, rule.UpdatedAt });
                    }
                }
            }
            foreach (var count in Counts)
            {
                await db.ExecuteAsync("INSERT INTO flag_evaluation_counts (flag_id, minute, result, reason, count) VALUES (@FlagId, @Minute, @Result, @Reason, @Value)",
                    new { FlagId = count.Flag.Id, count.Minute, count.Result, count.Reason, count.Value });
            }
            foreach (var latest in Latest)
            {
                await db.ExecuteAsync("INSERT INTO evaluation_latest (project_id, identifier, results, updated_at) VALUES (@ProjectId, @Identifier, CAST(@Results AS jsonb), @UpdatedAt)",
                    new { ProjectId = latest.Project.Id, latest.Identifier, Results = ResultsJson(latest.Results), latest.UpdatedAt });
            }
        }

        // The old AnalyticsFlusher.ResultsJson: {"<flag id>": {"result": true, "reason": "rollout", "at": "...123456Z"}}.
        private static string ResultsJson(Dictionary<Guid, Answer> results) => new JsonObject(results.Select(r =>
            KeyValuePair.Create(r.Key.ToString(), (JsonNode?)new JsonObject
            {
                ["result"] = r.Value.Result,
                ["reason"] = r.Value.Reason,
                ["at"] = r.Value.At.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
            }))).ToJsonString();

        // The old SdkKey.New().
        private static string NewSdkKey() =>
            "sdk_" + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32);
    }

    // The previous version's schema: the scripts before 0005, journalled as Migrations.Apply does,
    // so that the app's start applies 0005 (and what came after it).
    private static void ApplyV1Migrations(string connectionString)
    {
        var result = DeployChanges.To.PostgresqlDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(Migrations).Assembly,
                name => name.EndsWith(".sql", StringComparison.Ordinal) && ScriptNumber(name) <= 4)
            .WithTransactionPerScript()
            .JournalToPostgresqlTable("public", "schemaversions")
            .LogToNowhere()
            .Build()
            .PerformUpgrade();
        result.Successful.Should().BeTrue(result.Error?.Message);

        var pending = DeployChanges.To.PostgresqlDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(Migrations).Assembly, name => name.EndsWith(".sql", StringComparison.Ordinal))
            .JournalToPostgresqlTable("public", "schemaversions")
            .LogToNowhere()
            .Build()
            .GetScriptsToExecute();
        pending.Select(s => s.Name).First().Should().EndWith(".0005_environments.sql", "every later script comes after 0005");
        pending.Select(s => ScriptNumber(s.Name)).Should().OnlyContain(n => n >= 5);
    }

    // "FlagService.Migrations.0004_notify_configuration_changes.sql" → 4.
    private static int ScriptNumber(string resourceName)
    {
        const string Folder = ".Migrations.";
        var file = resourceName[(resourceName.IndexOf(Folder, StringComparison.Ordinal) + Folder.Length)..];
        return int.Parse(file[..4], CultureInfo.InvariantCulture);
    }

    // ---- Assertions ----

    private static async Task ShouldListProjectsAsync(HttpClient owner, V1Database v1, User user)
    {
        var list = await GetArrayAsync(owner, "/api/projects");
        var projects = v1.Projects.Where(p => p.Owner == user).OrderByDescending(p => p.CreatedAt).ToList();
        list.Select(p => p!["id"]!.GetValue<Guid>()).Should().Equal(projects.Select(p => p.Id), "v1 lists the caller's own projects, newest first");
        foreach (var project in projects)
        {
            ShouldBeProject(list.Single(p => p!["id"]!.GetValue<Guid>() == project.Id)!.AsObject(), project);
        }
    }

    private static void ShouldBeProject(JsonObject json, Project project)
    {
        json.Select(p => p.Key).Should().BeEquivalentTo(ProjectFields, "a v1 Project gains no field and loses none");
        json["id"]!.GetValue<Guid>().Should().Be(project.Id);
        json["name"]!.GetValue<string>().Should().Be(project.Name);
        Text(json, "description").Should().Be(project.Description);
        json["sdk_key"]!.GetValue<string>().Should().Be(project.SdkKey);
        json["created_at"]!.GetValue<DateTime>().Should().Be(project.CreatedAt);
        json["updated_at"]!.GetValue<DateTime>().Should().Be(project.UpdatedAt);
    }

    private static void ShouldBeV1Flag(JsonObject json, Flag flag, string environment)
    {
        json.Select(p => p.Key).Should().BeEquivalentTo(
            FlagFields.Concat(["environment", "environments", "value_type", "variants", "off_variant", "serve", "prerequisites"]),
            "a v1 Flag only gains the environment and variant fields");
        json["value_type"]!.GetValue<string>().Should().Be("boolean");
        json["variants"]!.ToJsonString().Should().Be(
            """[{"key":"on","value":true,"name":null,"description":null},{"key":"off","value":false,"name":null,"description":null}]""");
        json["serve"]!.ToJsonString().Should().Be(
            $$"""{"distribution":[{"variant":"on","weight":{{flag.RolloutPercentage}}},{"variant":"off","weight":{{100 - flag.RolloutPercentage}}}]}""",
            "a boolean flag's rollout, written as its distribution");
        json["id"]!.GetValue<Guid>().Should().Be(flag.Id);
        json["name"]!.GetValue<string>().Should().Be(flag.Name);
        json["key"]!.GetValue<string>().Should().Be(flag.Key);
        Text(json, "description").Should().Be(flag.Description);
        json["enabled"]!.GetValue<bool>().Should().Be(flag.Enabled);
        json["rollout_percentage"]!.GetValue<int>().Should().Be(flag.RolloutPercentage);
        json["created_at"]!.GetValue<DateTime>().Should().Be(flag.CreatedAt);
        json["updated_at"]!.GetValue<DateTime>().Should().Be(flag.UpdatedAt);
        json["environment"]!.GetValue<string>().Should().Be(environment);
        var states = json["environments"]!.AsObject();
        states.Select(s => s.Key).Should().Equal("production", "staging");
        foreach (var (_, state) in states)
        {
            state!["enabled"]!.GetValue<bool>().Should().Be(flag.Enabled);
            state["rollout_percentage"]!.GetValue<int>().Should().Be(flag.RolloutPercentage);
        }
    }

    private static void ShouldBeV1Rule(JsonObject json, Rule rule, Flag flag, string environment)
    {
        json.Select(p => p.Key).Should().BeEquivalentTo(RuleFields.Append("environment").Append("serve"), "a v1 Rule only gains environment and serve");
        json["id"]!.GetValue<Guid>().Should().Be(rule.Id);
        json["flag_id"]!.GetValue<Guid>().Should().Be(flag.Id);
        json["rule_type"]!.GetValue<string>().Should().Be(rule.RuleType);
        Text(json, "rule_value").Should().Be(rule.RuleValue);
        if (rule.Conditions is null)
        {
            json["conditions"].Should().BeNull();
        }
        else
        {
            JsonNode.DeepEquals(json["conditions"], JsonNode.Parse(rule.Conditions)).Should()
                .BeTrue($"conditions come back as stored: {json["conditions"]?.ToJsonString()}");
        }
        json["rollout_percentage"]!.GetValue<int>().Should().Be(rule.RolloutPercentage);
        json["enabled"]!.GetValue<bool>().Should().Be(rule.Enabled);
        json["priority"]!.GetValue<int>().Should().Be(rule.Priority);
        json["created_at"]!.GetValue<DateTime>().Should().Be(rule.CreatedAt);
        json["updated_at"]!.GetValue<DateTime>().Should().Be(rule.UpdatedAt);
        json["environment"]!.GetValue<string>().Should().Be(environment);
    }

    private static string StatsUrl(Project project, Flag flag, V1Database v1) =>
        $"/api/projects/{project.Id}/flags/{flag.Id}/stats?interval=hour&from={v1.T0:yyyy-MM-ddTHH:mm:ssZ}&to={v1.T0.AddHours(4):yyyy-MM-ddTHH:mm:ssZ}";

    // The v1 sums: true/false by result, by_reason by reason, in dense hourly buckets.
    private static void ShouldBeV1Stats(JsonObject stats, Flag flag, V1Database v1)
    {
        var rows = v1.Counts.Where(c => c.Flag == flag).ToList();
        var totals = stats["totals"]!.AsObject();
        totals["total"]!.GetValue<long>().Should().Be(rows.Sum(r => r.Value), flag.Key);
        totals["true"]!.GetValue<long>().Should().Be(rows.Where(r => r.Result).Sum(r => r.Value), flag.Key);
        totals["false"]!.GetValue<long>().Should().Be(rows.Where(r => !r.Result).Sum(r => r.Value), flag.Key);
        ByKey(totals["by_reason"]).Should().Equal(ByReason(rows), flag.Key);
        ByKey(totals["by_variant"]).Should().Equal(ByVariant(rows), flag.Key);
        stats["flag_id"]!.GetValue<Guid>().Should().Be(flag.Id);
        stats["from"]!.GetValue<DateTime>().Should().Be(v1.T0);
        stats["to"]!.GetValue<DateTime>().Should().Be(v1.T0.AddHours(4));
        stats["interval"]!.GetValue<string>().Should().Be("hour");
        stats["environment"]!.GetValue<string>().Should().Be("production");

        var buckets = stats["buckets"]!.AsArray();
        buckets.Select(b => b!["start"]!.GetValue<DateTime>()).Should().Equal(Enumerable.Range(0, 4).Select(h => v1.T0.AddHours(h)));
        foreach (var bucket in buckets)
        {
            var start = bucket!["start"]!.GetValue<DateTime>();
            var inHour = rows.Where(r => r.Minute >= start && r.Minute < start.AddHours(1)).ToList();
            bucket["total"]!.GetValue<long>().Should().Be(inHour.Sum(r => r.Value));
            bucket["true"]!.GetValue<long>().Should().Be(inHour.Where(r => r.Result).Sum(r => r.Value));
            bucket["false"]!.GetValue<long>().Should().Be(inHour.Where(r => !r.Result).Sum(r => r.Value));
            ByKey(bucket["by_reason"]).Should().Equal(ByReason(inHour));
        }
    }

    // A JSON null and a missing member both read as null; a v1 field that vanished fails the field-set check instead.
    private static string? Text(JsonObject json, string name) => json[name]?.GetValue<string>();

    private static Dictionary<string, long> ByReason(IEnumerable<Count> rows) =>
        rows.GroupBy(r => r.Reason).ToDictionary(g => g.Key, g => g.Sum(r => r.Value));

    private static Dictionary<string, long> ByVariant(IEnumerable<Count> rows) =>
        rows.GroupBy(r => r.Result ? "on" : "off").ToDictionary(g => g.Key, g => g.Sum(r => r.Value));

    private static Dictionary<string, long> ByKey(JsonNode? node) =>
        node!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<long>());

    // ---- HTTP ----

    private static async Task<HttpClient> LoginAsync(FlagServiceFactory app, string email)
    {
        var client = app.CreateClient();
        var login = await client.PostJsonAsync("/auth/login", new { email, password = Password });
        login.StatusCode.Should().Be(HttpStatusCode.OK, "the v1 password hash still logs in");
        client.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", (await login.ReadObjectAsync())["token"]!.GetValue<string>());
        return client;
    }

    private static async Task<JsonObject> GetObjectAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        response.StatusCode.Should().Be(HttpStatusCode.OK, $"GET {url}: {await response.Content.ReadAsStringAsync()}");
        return await response.ReadObjectAsync();
    }

    private static async Task<JsonArray> GetArrayAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        response.StatusCode.Should().Be(HttpStatusCode.OK, $"GET {url}: {await response.Content.ReadAsStringAsync()}");
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
    }

    private static async Task<JsonObject> EvaluateAsync(HttpClient client, string sdkKey, Context context)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/evaluate")
        {
            Content = JsonContent.Create(context.Body(), options: Api.Json),
        };
        request.Headers.Add("X-SDK-Key", sdkKey);
        var response = await client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadObjectAsync();
    }

    // Every management answer about the seeded data, by URL; analytics over the seeded range only.
    private static async Task<Dictionary<string, string>> ReadEverythingAsync(FlagServiceFactory app, V1Database v1)
    {
        var answers = new Dictionary<string, string>();
        foreach (var user in new[] { v1.Alice, v1.Bob })
        {
            var client = await LoginAsync(app, user.Email);
            var urls = new List<string> { "/api/projects" };
            foreach (var project in v1.Projects.Where(p => p.Owner == user))
            {
                urls.Add($"/api/projects/{project.Id}");
                urls.Add($"/api/projects/{project.Id}/environments");
                foreach (var environment in new[] { "", "/environments/production", "/environments/staging" })
                {
                    urls.Add($"/api/projects/{project.Id}{environment}/flags");
                    foreach (var flag in project.Flags)
                    {
                        urls.Add($"/api/projects/{project.Id}{environment}/flags/{flag.Id}");
                        urls.Add($"/api/projects/{project.Id}{environment}/flags/{flag.Id}/rules");
                    }
                }
                foreach (var flag in project.Flags)
                {
                    urls.Add(StatsUrl(project, flag, v1));
                }
            }
            foreach (var latest in v1.Latest.Where(l => l.Project.Owner == user))
            {
                urls.AddRange(latest.Results.Keys.Select(f =>
                    $"/api/projects/{latest.Project.Id}/flags/{f}/evaluations?user={Uri.EscapeDataString(latest.Identifier)}"));
            }
            foreach (var url in urls)
            {
                var response = await client.GetAsync(url);
                response.StatusCode.Should().Be(HttpStatusCode.OK, url);
                answers[$"{user.Email} {url}"] = await response.Content.ReadAsStringAsync();
            }
        }
        return answers;
    }

    private static async Task<Dictionary<string, long>> RowCountsAsync(string connectionString, bool v1Tables = false)
    {
        string[] tables = v1Tables
            ? ["users", "projects", "feature_flags", "targeting_rules", "flag_evaluation_counts", "evaluation_latest"]
            : ["users", "projects", "environments", "feature_flags", "flag_environments", "targeting_rules", "flag_evaluation_counts", "evaluation_latest"];
        await using var db = new NpgsqlConnection(connectionString);
        var counts = new Dictionary<string, long>();
        foreach (var table in tables)
        {
            counts[table] = await db.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}");
        }
        return counts;
    }
}
