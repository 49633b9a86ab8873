using System.Globalization;
using System.Text.Json.Serialization;
using Dapper;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Analytics.Stats;

public static class GetFlagStats
{
    public const int MaxBuckets = 10_000;
    private static readonly string[] Intervals = ["minute", "hour", "day"];

    public sealed record Counts(
        long Total, [property: JsonPropertyName("true")] long True, [property: JsonPropertyName("false")] long False,
        Dictionary<string, long> ByReason, Dictionary<string, long> ByVariant);

    public sealed record Bucket(DateTime Start, long Total, [property: JsonPropertyName("true")] long True,
        [property: JsonPropertyName("false")] long False, Dictionary<string, long> ByReason, Dictionary<string, long> ByVariant);

    public sealed record StatsResponse(
        Guid FlagId, string Environment, DateTime From, DateTime To, string Interval, Counts Totals, Bucket[] Buckets);

    private sealed record Row(DateTime Start, string? Reason, string? Variant, long Count);

    public static RouteHandlerBuilder MapGetFlagStats(this IEndpointRouteBuilder flags) =>
        flags.MapGet("/stats", HandleAsync).WithName(nameof(GetFlagStats));

    // Dense buckets (empty ones included) from `from` to `to`, in UTC, in the scope's environment.
    // The first statement finds the flag in the project (none: 404).
    private const string Sql = """
        SELECT f.value_type FROM feature_flags f WHERE f.id = @FlagId AND f.project_id = @ProjectId;
        WITH buckets AS (
            SELECT generate_series(date_trunc(@Interval, @From, 'UTC'), @To - interval '1 microsecond',
                                   ('1 ' || @Interval)::interval) AS start)
        SELECT b.start, c.reason, c.variant, COALESCE(sum(c.count), 0)::bigint AS count
          FROM buckets b
          LEFT JOIN flag_evaluation_counts c
            ON c.flag_id = @FlagId AND c.environment_id = @EnvironmentId
           AND c.minute >= @From AND c.minute < @To
           AND date_trunc(@Interval, c.minute, 'UTC') = b.start
         GROUP BY b.start, c.reason, c.variant
         ORDER BY b.start;
        """;

    internal static async Task<Results<Ok<StatsResponse>, NotFound, ValidationProblem>> HandleAsync(
        ProjectScope scope, PathId flagId, string? from, string? to, string? interval, NpgsqlDataSource db, TimeProvider time,
        CancellationToken ct)
    {
        var errors = new FieldErrors();
        interval ??= "hour";
        if (!Intervals.Contains(interval))
        {
            errors.Add("interval", "must be one of: minute, hour, day");
        }
        var end = Instant(errors, "to", to) ?? time.GetUtcNow().UtcDateTime;
        var start = Instant(errors, "from", from) ?? end.AddDays(-1);
        // Counts are kept per minute: the range is widened to whole minutes.
        start = new DateTime(start.Ticks - start.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc);
        end = new DateTime(end.Ticks + (TimeSpan.TicksPerMinute - end.Ticks % TimeSpan.TicksPerMinute) % TimeSpan.TicksPerMinute, DateTimeKind.Utc);
        if (!errors.Any && start >= end)
        {
            errors.Add("from", "must be before to");
        }
        if (!errors.Any && (end - start) / Step(interval) > MaxBuckets)
        {
            errors.Add("interval", $"gives more than {MaxBuckets} buckets for this range: choose a coarser interval or a shorter range");
        }
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(Sql, new
        {
            scope.ProjectId, FlagId = flagId.Value, scope.EnvironmentId, Interval = interval, From = start, To = end,
        }, cancellationToken: ct));
        var valueType = await results.ReadSingleOrDefaultAsync<string>();
        if (valueType is null)
        {
            return TypedResults.NotFound();
        }
        var rows = (await results.ReadAsync<Row>()).ToArray();

        var buckets = rows.GroupBy(r => r.Start).Select(g => Sum(g.Key, g, valueType)).ToArray();
        var totals = Sum(start, rows, valueType);
        return TypedResults.Ok(new StatsResponse(flagId.Value, scope.Environment.Key, start, end, interval,
            new Counts(totals.Total, totals.True, totals.False, totals.ByReason, totals.ByVariant), buckets));
    }

    // `true` counts what the SDK answered `enabled: true` for (CompiledFlag.IsOn): a boolean flag's
    // `on` variant, for other types anything served while enabled and past its prerequisites.
    private static Bucket Sum(DateTime start, IEnumerable<Row> rows, string valueType)
    {
        long yes = 0, no = 0;
        var byReason = new Dictionary<string, long>(StringComparer.Ordinal);
        var byVariant = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var row in rows.Where(r => r.Count > 0 && r.Reason is not null && r.Variant is not null))
        {
            var on = EvaluationReasonExtensions.FromWire(row.Reason!) is { } reason
                && CompiledFlag.IsOn(valueType == ValueTypes.Boolean, row.Variant == ValueTypes.On, reason);
            if (on) { yes += row.Count; } else { no += row.Count; }
            byReason[row.Reason!] = byReason.GetValueOrDefault(row.Reason!) + row.Count;
            byVariant[row.Variant!] = byVariant.GetValueOrDefault(row.Variant!) + row.Count;
        }
        return new Bucket(DateTime.SpecifyKind(start, DateTimeKind.Utc), yes + no, yes, no, byReason, byVariant);
    }

    private static TimeSpan Step(string interval) => interval switch
    {
        "minute" => TimeSpan.FromMinutes(1),
        "hour" => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    private static DateTime? Instant(FieldErrors errors, string field, string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return parsed.UtcDateTime;
        }
        errors.Add(field, "must be an RFC 3339 timestamp such as 2026-01-31T10:00:00Z");
        return null;
    }
}
