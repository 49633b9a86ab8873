using FlagService.Features.Analytics;
using FlagService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace FlagService.Tests.Operations;

public sealed class PruneCountersTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Counters_of_a_deleted_flag_leave_memory_and_those_of_live_flags_stay()
    {
        var scenario = await SdkScenario.CreateAsync(app);
        var kept = Guid.Parse(await scenario.CreateFlagAsync("kept"));
        var deleted = Guid.Parse(await scenario.CreateFlagAsync("deleted"));
        await scenario.EvaluateAsync(app.CreateClient(), new { user_id = "u1" });
        var recorder = app.Factory.Services.GetRequiredService<EvaluationRecorder>();
        recorder.AllCounters.Select(c => c.FlagId).Should().Contain([kept, deleted]);

        (await scenario.Owner.DeleteAsync($"{scenario.Flags}/{deleted}")).EnsureSuccessStatusCode();

        // Pruning runs every 30 flushes: 6 s at the suite's 200 ms interval.
        var pruned = await SdkScenario.EventuallyAsync(
            () => Task.FromResult(!recorder.AllCounters.Any(c => c.FlagId == deleted)), TimeSpan.FromSeconds(20));
        pruned.Should().BeTrue();
        recorder.AllCounters.Select(c => c.FlagId).Should().Contain(kept);
    }
}
