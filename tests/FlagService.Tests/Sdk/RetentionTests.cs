using System.Text.Json.Nodes;
using Dapper;
using FlagService.Features.Analytics;
using FlagService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FlagService.Tests.Sdk;

public sealed class RetentionTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Old_minutes_roll_up_into_hours_and_days_and_stats_keep_the_same_totals()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var flag = await sdk.CreateFlagAsync("kept_for_years", rollout: 50);
        await using var db = new NpgsqlConnection(app.ConnectionString);
        var environment = await db.ExecuteScalarAsync<Guid>("SELECT id FROM environments WHERE project_id = @p AND is_default", new { p = Guid.Parse(sdk.ProjectId) });
        // Three spans of per-minute rows: 10 days old (becomes hourly), 120 days old (daily), and today (kept).
        await db.ExecuteAsync("""
            INSERT INTO flag_evaluation_counts (environment_id, flag_id, minute, reason, variant, count)
            SELECT @environment, @flag, date_trunc('hour', now()) - make_interval(days => d) + make_interval(mins => m), r.reason, r.variant, m + 1
              FROM unnest(ARRAY[10, 120, 0]) AS d, generate_series(1, 150) AS m,
                   (VALUES ('rollout', 'on'), ('rollout_excluded', 'off')) AS r(reason, variant)
             WHERE d > 0 OR m < 30
            """, new { environment, flag = Guid.Parse(flag) });
        var rowsBefore = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM flag_evaluation_counts WHERE flag_id = @flag", new { flag = Guid.Parse(flag) });
        string Stats() => $"{sdk.Flags}/{flag}/stats?interval=day&from={DateTime.UtcNow.AddDays(-130):O}&to={DateTime.UtcNow.AddDays(1):O}";
        var before = await (await sdk.Owner.GetAsync(Stats())).ReadObjectAsync();

        var written = await app.Factory.Services.GetRequiredService<CountsRetention>().RollUpAsync(CancellationToken.None);

        written.Should().BeGreaterThan(0);
        var after = await (await sdk.Owner.GetAsync(Stats())).ReadObjectAsync();
        after["totals"]!.ToJsonString().Should().Be(before["totals"]!.ToJsonString(), "rolling up moves counts, it never changes them");
        after["buckets"]!.ToJsonString().Should().Be(before["buckets"]!.ToJsonString(), "and every day keeps its own");
        var rows = (await db.QueryAsync<(DateTime Minute, long Count)>(
            "SELECT minute, count FROM flag_evaluation_counts WHERE flag_id = @flag AND reason = 'rollout'", new { flag = Guid.Parse(flag) })).ToArray();
        rows.Length.Should().BeLessThan((int)rowsBefore / 2);
        rows.Where(r => r.Minute < DateTime.UtcNow.AddDays(-100)).Should().OnlyContain(r => r.Minute == r.Minute.Date, "120-day-old counts are daily");
        rows.Where(r => r.Minute < DateTime.UtcNow.AddDays(-9) && r.Minute > DateTime.UtcNow.AddDays(-11))
            .Should().OnlyContain(r => r.Minute.Minute == 0, "10-day-old counts are hourly");
        rows.Count(r => r.Minute > DateTime.UtcNow.AddDays(-1)).Should().Be(29, "today's minutes stay as they are");

        (await app.Factory.Services.GetRequiredService<CountsRetention>().RollUpAsync(CancellationToken.None)).Should().Be(0, "nothing is left to roll up");
    }
}
