using System.Net;
using FlagService.Features.Analytics;
using FlagService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FlagService.Tests.Sdk;

public sealed class ShortAnalyticsTimeoutFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Analytics:CommandTimeoutSeconds"] = "1",
    };
}

// A statement that cannot succeed (here: its table locked by someone else) is retried a bounded
// number of times, then its rows are dropped and counted; nothing piles up, the rest keeps flowing.
public sealed class AnalyticsFailureTests(ShortAnalyticsTimeoutFixture app) : IClassFixture<ShortAnalyticsTimeoutFixture>
{
    [Fact]
    public async Task Latest_answers_blocked_by_a_lock_are_dropped_after_bounded_retries_while_counts_stay_exact()
    {
        var flusher = app.Factory.Services.GetRequiredService<AnalyticsFlusher>();
        var sdk = await SdkScenario.CreateAsync(app);
        var a = await sdk.CreateFlagAsync("locked_a", rollout: 100);
        await sdk.CreateFlagAsync("locked_b", rollout: 0);
        var client = app.CreateClient();
        var droppedBefore = flusher.DroppedAnswers;

        await using var blocker = new NpgsqlConnection(app.ConnectionString);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE evaluation_contexts IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        for (var i = 0; i < 30; i++)
        {
            await sdk.EvaluateAsync(client, new { user_id = $"blocked_{i}" });
        }

        (await SdkScenario.EventuallyAsync(() => Task.FromResult(flusher.DroppedAnswers - droppedBefore == 30), TimeSpan.FromSeconds(20)))
            .Should().BeTrue($"the latest evaluations of 30 identifiers are dropped after {AnalyticsFlusher.MaxAttempts} failed statements (dropped {flusher.DroppedAnswers - droppedBefore})");
        flusher.PendingRows.Should().Be(0, "nothing waits to be retried for ever");
        flusher.PendingLatestBytes.Should().Be(0, "the contexts of dropped rows leave memory");
        var stats = await (await sdk.Owner.GetAsync($"{sdk.Flags}/{a}/stats?interval=hour")).ReadObjectAsync();
        stats["totals"]!["total"]!.GetValue<long>().Should().Be(30, "counts are written by their own statements");

        await transaction.RollbackAsync();
        await sdk.EvaluateAsync(client, new { user_id = "after_the_lock" });
        (await SdkScenario.EventuallyAsync(async () =>
            (await sdk.Owner.GetAsync($"{sdk.Flags}/{a}/evaluations?user=after_the_lock")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10))).Should().BeTrue("writing resumes once the lock is gone");
        (flusher.DroppedAnswers - droppedBefore).Should().Be(30);
    }
}
