using System.Net;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Health;

public sealed class HealthTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Health_with_database_up_returns_ok_then_503_while_it_is_down()
    {
        var client = app.CreateClient();
        var up = await client.GetAsync("/health");
        up.StatusCode.Should().Be(HttpStatusCode.OK);
        (await up.ReadObjectAsync()).ToJsonString().Should().Be("""{"status":"ok","database":"ok"}""");

        await app.Database.RefuseConnectionsAsync();
        try
        {
            var down = await client.GetAsync("/health");
            down.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            (await down.ReadObjectAsync()).ToJsonString().Should().Be("""{"status":"degraded","database":"unreachable"}""");
        }
        finally
        {
            await app.Database.AllowConnectionsAsync();
        }

        (await client.GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Unknown_route_returns_404_problem()
    {
        await (await app.CreateClient().GetAsync("/nope")).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task OpenApi_document_describes_every_endpoint_and_the_bearer_scheme()
    {
        var document = await app.CreateClient().GetStringAsync("/openapi/v1.json");
        foreach (var path in new[] { "/health", "/auth/register", "/auth/login", "/api/me", "/api/projects", "/api/projects/{projectId}", "/api/projects/{projectId}/regenerate-key" })
        {
            document.Should().Contain($"\"{path}\"");
        }
        document.Should().Contain("\"bearer\"").And.Contain("CreateProjectRequest").And.Contain("ProjectResponse");
    }
}
