using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlagService.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace FlagService.Tests.Operations;

// The built service in a process of its own, configured as an operator would: JSON logs at the most
// verbose level, /metrics on a port of its own, a database role with a password of its own.
public sealed class ProductionProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Json_logs_carry_trace_ids_and_no_secret_created_during_the_run()
    {
        await using var database = await TestDatabase.CreateAsync();
        var (connectionString, databasePassword, dropRole) = await OwnRoleAsync(database);
        var jwtSecret = Secret("jwt-secret-");
        var metricsPort = ServiceProcess.FreePort();
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var service = ServiceProcess.Start(connectionString, new Dictionary<string, string>
        {
            ["Logging__Console__FormatterName"] = "json",
            ["Logging__LogLevel__Default"] = "Trace",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Trace",
            ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
            ["Jwt__Secret"] = jwtSecret,
            ["Metrics__Port"] = metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        try
        {
            (await service.ReadyAsync(TimeSpan.FromSeconds(60))).Should().BeTrue(string.Join('\n', service.Output));
            output.WriteLine($"start to ready, migrations included: {started.ElapsedMilliseconds} ms");

            // Everything a user does that involves a secret.
            var client = service.Client;
            var email = Api.UniqueEmail();
            var password = Secret("password-");
            var wrongPassword = Secret("wrong-");
            var token = await client.RegisterAndLoginAsync(email, password);
            (await client.PostJsonAsync("/auth/login", new { email, password = wrongPassword })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            (await client.GetAsync("/api/me")).EnsureSuccessStatusCode();
            var project = await client.CreateProjectAsync();
            var projectId = project["id"]!.GetValue<string>();
            var oldKey = project["sdk_key"]!.GetValue<string>();
            (await client.PostJsonAsync($"/api/projects/{projectId}/flags", new { name = "Checkout", key = "checkout", enabled = true })).EnsureSuccessStatusCode();
            var sdk = new HttpClient { BaseAddress = client.BaseAddress };
            (await Evaluate(sdk, oldKey)).StatusCode.Should().Be(HttpStatusCode.OK);
            var ofrep = new HttpRequestMessage(HttpMethod.Post, "/ofrep/v1/evaluate/flags/checkout") { Content = JsonBody("""{"context":{"targetingKey":"u1"}}""") };
            ofrep.Headers.Authorization = new AuthenticationHeaderValue("Bearer", oldKey);
            (await sdk.SendAsync(ofrep)).StatusCode.Should().Be(HttpStatusCode.OK);
            var regenerated = await (await client.PostAsync($"/api/projects/{projectId}/regenerate-key", null)).ReadObjectAsync();
            var newKey = regenerated["sdk_key"]!.GetValue<string>();
            (await Evaluate(sdk, oldKey)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            (await Evaluate(sdk, newKey)).StatusCode.Should().Be(HttpStatusCode.OK);
            var forged = new HttpRequestMessage(HttpMethod.Get, "/api/me");
            forged.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token[..^4] + "AAAA");
            (await sdk.SendAsync(forged)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            var missing = await (await client.GetAsync($"/api/projects/{Guid.NewGuid()}")).ShouldBeProblemAsync(404);

            // /metrics lives on its own port only, which serves nothing else.
            (await sdk.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.NotFound);
            using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
            var scrape = await scraper.MetricsAsync();
            Scrape.Value(scrape, "flagservice_snapshot_loads_total").Should().BeGreaterThanOrEqualTo(2);
            Scrape.Value(scrape, "http_server_request_duration_seconds_count", ("http_route", "/sdk/v1/evaluate"), ("http_response_status_code", "200"))
                .Should().Be(2);
            (await scraper.GetAsync("/health/ready")).StatusCode.Should().Be(HttpStatusCode.NotFound);

            await service.TerminateAsync();
            (await service.ExitCodeAsync(TimeSpan.FromSeconds(30))).Should().Be(0);

            var lines = service.Output.Where(l => l.Length > 0).ToList();
            lines.Should().NotBeEmpty();
            var logs = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList(); // throws on any line that is not JSON
            logs.Where(l => !HasString(l, "LogLevel") || !HasString(l, "Category")).Should().BeEmpty();
            var traceId = Regex.Match(missing["trace_id"]!.GetValue<string>(), "[0-9a-f]{32}").Value;
            traceId.Should().NotBeEmpty();
            logs.Where(l => l.GetProperty("Category").GetString() == "FlagService.Infrastructure.Http.RequestLogging"
                            && l.GetProperty("Scopes").EnumerateArray().Any(s => HasString(s, "TraceId") && s.GetProperty("TraceId").GetString() == traceId))
                .Should().NotBeEmpty("the request that got the 404 is logged with the trace id its body carried");

            var everything = string.Join('\n', lines) + scrape;
            foreach (var (name, secret) in new[]
                     {
                         ("password", password), ("wrong password", wrongPassword), ("JWT", token), ("JWT signature", token.Split('.')[2]),
                         ("JWT secret", jwtSecret), ("database password", databasePassword), ("SDK key", oldKey), ("regenerated SDK key", newKey),
                     })
            {
                everything.Should().NotContain(secret, $"the {name} must never be logged");
            }
            output.WriteLine($"{lines.Count} log lines checked");
        }
        finally
        {
            await dropRole();
        }
    }

    private static bool HasString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String;

    internal static Task<HttpResponseMessage> Evaluate(HttpClient sdk, string key, string body = "{}")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/evaluate") { Content = JsonBody(body) };
        request.Headers.Add("X-SDK-Key", key);
        return sdk.SendAsync(request);
    }

    private static StringContent JsonBody(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static string Secret(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    // A login role with a random password that owns the test database: a secret the logs must not show.
    private static async Task<(string ConnectionString, string Password, Func<Task> Drop)> OwnRoleAsync(TestDatabase database)
    {
        var admin = await PostgresServer.AdminConnectionStringAsync();
        var role = $"flagservice_{Guid.NewGuid():N}";
        var password = Secret("db-");
        await AdminAsync(admin, $"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'");
        await AdminAsync(admin, $"ALTER DATABASE \"{database.Name}\" OWNER TO \"{role}\"");
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = role, Password = password }.ConnectionString;
        return (connectionString, password, async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await AdminAsync(admin, $"DROP DATABASE IF EXISTS \"{database.Name}\" WITH (FORCE)");
            await AdminAsync(admin, $"DROP ROLE IF EXISTS \"{role}\"");
        });
    }

    private static async Task AdminAsync(string admin, string sql)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
