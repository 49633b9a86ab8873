using System.Net;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Sdk;

// Two instances of the service on one database: what one changes, the other must stop serving
// within a second (LISTEN/NOTIFY), with nothing but the database between them.
public sealed class InstancesTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Toggle_through_instance_A_is_seen_by_instance_B_within_a_second()
    {
        await using var instanceB = new FlagServiceFactory(app.ConnectionString);
        var clientB = instanceB.CreateClient();
        await instanceB.ListeningAsync();
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("shared", rollout: 100);
        (await sdk.EvaluateAsync(clientB))["shared"]!["enabled"]!.GetValue<bool>().Should().BeTrue("B has the project in memory now");

        (await sdk.Owner.PostAsync($"{sdk.Flags}/{flag}/toggle", null)).EnsureSuccessStatusCode();

        (await Eventually.TrueAsync(async () =>
            !(await sdk.EvaluateAsync(clientB))["shared"]!["enabled"]!.GetValue<bool>()))
            .Should().BeTrue("instance B must drop its snapshot when A's change is announced");
    }

    [Fact]
    public async Task Deleted_project_and_regenerated_key_stop_working_on_B_within_a_second()
    {
        await using var instanceB = new FlagServiceFactory(app.ConnectionString);
        var clientB = instanceB.CreateClient();
        await instanceB.ListeningAsync();
        var rotated = await SdkScenario.CreateAsync(app);
        var deleted = await SdkScenario.CreateAsync(app);
        await rotated.EvaluateAsync(clientB);
        await deleted.EvaluateAsync(clientB);
        var oldKey = rotated.SdkKey;

        (await rotated.Owner.PostAsync($"/api/projects/{rotated.ProjectId}/regenerate-key", null)).EnsureSuccessStatusCode();
        (await deleted.Owner.DeleteAsync($"/api/projects/{deleted.ProjectId}")).EnsureSuccessStatusCode();

        (await Eventually.TrueAsync(async () =>
            (await rotated.EvaluateRawAsync(clientB, null, oldKey)).StatusCode == HttpStatusCode.Unauthorized))
            .Should().BeTrue();
        (await Eventually.TrueAsync(async () =>
            (await deleted.EvaluateRawAsync(clientB, null)).StatusCode == HttpStatusCode.Unauthorized))
            .Should().BeTrue();
    }
}
