using System.Net;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Operations;

public sealed class ProbeTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Ready_with_everything_up_then_503_naming_the_database_and_listener_while_it_is_down()
    {
        var client = app.CreateClient();
        var ready = await client.GetAsync("/health/ready");
        ready.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ready.ReadObjectAsync()).ToJsonString().Should().Be(
            """{"status":"ready","checks":{"migrations":"ok","database":"ok","configuration_listener":"ok","shutdown":"ok"}}""");

        await app.Database.RefuseConnectionsAsync();
        try
        {
            var problem = await (await client.GetAsync("/health/ready")).ShouldBeProblemAsync(503);
            problem["checks"]!["database"]!.GetValue<string>().Should().Be("unreachable");
            // The listener notices its cut connection within its idle check.
            var disconnected = await SdkScenario.EventuallyAsync(async () =>
                (await (await client.GetAsync("/health/ready")).ReadObjectAsync())["checks"]!["configuration_listener"]!.GetValue<string>() == "disconnected",
                TimeSpan.FromSeconds(20));
            disconnected.Should().BeTrue();

            // Live only says that the process answers.
            var live = await client.GetAsync("/health/live");
            live.StatusCode.Should().Be(HttpStatusCode.OK);
            (await live.ReadObjectAsync()).ToJsonString().Should().Be("""{"status":"alive"}""");
            (await client.GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        }
        finally
        {
            await app.Database.AllowConnectionsAsync();
        }

        var back = await SdkScenario.EventuallyAsync(async () => (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(20));
        back.Should().BeTrue("the listener reconnects and the database answers again");
    }
}
