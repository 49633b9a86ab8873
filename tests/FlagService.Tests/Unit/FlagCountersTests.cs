using FlagService.Features.Analytics;
using FlagService.Features.Evaluation;
using FluentAssertions;
using Microsoft.Extensions.Options;
using Xunit;

namespace FlagService.Tests.Unit;

// Counting is exact whatever the concurrency: requests counting whole snapshots under their
// stripe's lock, requests that fall back to the shared stripe, single-flag counts and the
// harvester all at once, with more threads than processors so that stripes are contended.
public sealed class FlagCountersTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task Concurrent_counting_and_harvesting_lose_nothing()
    {
        const int flagCount = 40, threads = 8, requests = 50_000;
        var time = new FixedTime(new DateTimeOffset(2026, 12, 2, 10, 30, 15, TimeSpan.Zero));
        var minute = EvaluationRecorder.MinuteOf(time.GetUtcNow());
        var flags = Enumerable.Range(0, flagCount)
            .Select(i => new FlagDefinition(Guid.NewGuid(), $"flag_{i}", true, 50, []))
            .ToArray();
        var snapshot = new ProjectSnapshot(new ProjectDefinition(Guid.NewGuid(),
            [new EnvironmentDefinition(Guid.NewGuid(), "production", "sdk_x", "srv_x", true, flags)])).Environments[0];
        var recorder = new EvaluationRecorder(Options.Create(new AnalyticsOptions()), time);
        var counters = recorder.CountersFor(snapshot);

        var harvested = new long[flagCount, FlagCounters.Slots * 8];
        void Harvest()
        {
            for (var f = 0; f < flagCount; f++)
            {
                var flag = f;
                counters[flag].Harvest(minute, (m, outcome, delta) =>
                {
                    m.Should().Be(minute);
                    harvested[flag, outcome] += delta;
                });
            }
        }

        using var stop = new CancellationTokenSource();
        var harvester = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Harvest();
            }
        });
        var context = new EvaluationContext(null, null, null);
        // Threads of their own, released together: the pool would run a few of them one after another.
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            var outcomes = new ushort[flagCount];
            for (var r = 0; r < requests; r++)
            {
                for (var f = 0; f < flagCount; f++)
                {
                    // Outcomes vary with the request and the flag: rollout or rollout_excluded.
                    outcomes[f] = Outcome.Of((r + f) % 2 == 0 ? EvaluationReason.Rollout : EvaluationReason.RolloutExcluded, (r + f) % 2);
                }
                recorder.Record(snapshot, outcomes, in context, null);
                if (r % 10 == 0)
                {
                    // One flag's count, as OFREP's single-flag route records it.
                    recorder.RecordFlag(snapshot, t % flagCount, Outcome.Of(EvaluationReason.Disabled, 1), in context, null);
                }
            }
        })).ToArray();
        foreach (var worker in workers)
        {
            worker.Start();
        }
        foreach (var worker in workers)
        {
            worker.Join();
        }
        await stop.CancelAsync();
        await harvester;
        Harvest();

        for (var f = 0; f < flagCount; f++)
        {
            var rollout = Outcome.Of(EvaluationReason.Rollout, 0);
            var excluded = Outcome.Of(EvaluationReason.RolloutExcluded, 1);
            var disabled = Outcome.Of(EvaluationReason.Disabled, 1);
            // Over the requests r, (r + f) is even for half of them.
            harvested[f, rollout].Should().Be(threads * requests / 2, $"flag {f} rollout");
            harvested[f, excluded].Should().Be(threads * requests / 2, $"flag {f} excluded");
            var singles = Enumerable.Range(0, threads).Count(t => t % flagCount == f) * (requests / 10);
            harvested[f, disabled].Should().Be(singles, $"flag {f} single counts");
        }
    }

    // Record says what every flag of the snapshot served: a span of another length is a caller's bug,
    // refused before anything is counted.
    [Fact]
    public void Recording_a_snapshot_takes_one_outcome_per_flag()
    {
        var flags = Enumerable.Range(0, 3).Select(i => new FlagDefinition(Guid.NewGuid(), $"flag_{i}", true, 50, [])).ToArray();
        var snapshot = new ProjectSnapshot(new ProjectDefinition(Guid.NewGuid(),
            [new EnvironmentDefinition(Guid.NewGuid(), "production", "sdk_x", "srv_x", true, flags)])).Environments[0];
        var time = new FixedTime(new DateTimeOffset(2026, 12, 2, 10, 30, 15, TimeSpan.Zero));
        var recorder = new EvaluationRecorder(Options.Create(new AnalyticsOptions()), time);
        var rollout = Outcome.Of(EvaluationReason.Rollout, 0);

        var record = () => recorder.Record(snapshot, [rollout, rollout], new EvaluationContext(null, null, null), null);
        record.Should().Throw<ArgumentOutOfRangeException>();
        recorder.Record(snapshot, [rollout, rollout, rollout], new EvaluationContext(null, null, null), null);

        var counted = 0L;
        foreach (var counters in recorder.CountersFor(snapshot))
        {
            counters.Harvest(EvaluationRecorder.MinuteOf(time.GetUtcNow()), (_, outcome, delta) => counted += outcome == rollout ? delta : 0);
        }
        counted.Should().Be(3);
    }
}
