using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Schedules.Create;

public static class CreateSchedule
{
    // `at` is an instant: any offset is accepted and stored as UTC.
    public sealed record CreateScheduleRequest(DateTimeOffset? At = null, ChangeRequest? Change = null);

    // The state fields of a PUT. Unknown fields are collected so that a typo ("enable") is a 400
    // instead of a schedule that silently changes less than intended.
    public sealed record ChangeRequest
    {
        public bool? Enabled { get; init; }
        public int? RolloutPercentage { get; init; }
        public ServeRequest? Serve { get; init; }
        public string? OffVariant { get; init; }

        [JsonExtensionData]
        public Dictionary<string, JsonElement>? Unknown { get; init; }
    }

    public static RouteHandlerBuilder MapCreateSchedule(this IEndpointRouteBuilder schedules) =>
        schedules.MapPost("/", HandleAsync);

    private const string Sql = """
        WITH inserted AS (
            INSERT INTO flag_schedules (flag_id, environment_id, at, enabled, rollout_percentage, off_variant, serve, created_by)
            VALUES (@FlagId, @EnvironmentId, @At, @Enabled, @RolloutPercentage, @OffVariant, CAST(@Serve AS jsonb), @UserId)
            RETURNING *)
        SELECT c.id, c.flag_id, @Environment AS environment, c.at, c.enabled, c.rollout_percentage, c.off_variant, c.serve::text AS serve,
               c.created_by, c.status, c.created_at, c.applied_at, c.failure_reason, c.cancelled_at, @ValueType AS value_type
          FROM inserted c
        """;

    private const string NotifySql = $"SELECT pg_notify('{ConfigurationListener.Channel}', CAST(@ProjectId AS text))";

    internal static async Task<Results<Created<ScheduleResponse>, NotFound, ValidationProblem>> HandleAsync(
        PathId projectId, EnvironmentRef env, PathId flagId, CreateScheduleRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        HttpRequest http, CancellationToken ct)
    {
        var userId = user.UserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        var target = await connection.QuerySingleOrDefaultAsync<ScheduleTarget>(new CommandDefinition(SchedulesEndpoints.Target, new
        {
            ProjectId = projectId.Value, FlagId = flagId.Value, UserId = userId, EnvId = env.Id, EnvKey = env.Key,
        }, cancellationToken: ct));
        if (target is null)
        {
            return TypedResults.NotFound();
        }

        // The database's clock decides, as it does when the runners look for due schedules.
        var errors = new FieldErrors();
        if (request.At is not { } at)
        {
            errors.Add("at", "is required");
        }
        else if (at.UtcDateTime <= target.Now)
        {
            errors.Add("at", $"must be in the future (the server's time is {target.Now:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'})");
        }
        var change = request.Change;
        Variants.ValidState? state = null;
        if (change is null)
        {
            errors.Add("change", $"is required: an object with at least one of: {ScheduledChange.Fields}");
        }
        else if (change.Unknown is { Count: > 0 } unknown)
        {
            foreach (var field in unknown.Keys)
            {
                errors.Add($"change.{field}", $"is not a field of a scheduled change (fields: {ScheduledChange.Fields})");
            }
        }
        else
        {
            state = ScheduledChange.Validate(errors, target.ValueType, target.Variants, change.Enabled, change.RolloutPercentage,
                change.OffVariant, change.Serve);
        }
        if (errors.Any || state is null)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        try
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var schedule = await connection.QuerySingleAsync<ScheduleRow>(new CommandDefinition(Sql, new
            {
                target.FlagId, target.EnvironmentId, target.Environment, target.ValueType, At = request.At!.Value.UtcDateTime,
                change!.Enabled, RolloutPercentage = state.Rollout, state.OffVariant, Serve = state.ServeJson, UserId = userId,
            }, transaction, cancellationToken: ct));
            await AuditTrail.RecordAsync(connection, transaction, user, projectId.Value, "schedule.created", AuditResources.Schedule, schedule.Id, ct,
                environmentId: target.EnvironmentId);
            // Wakes the schedule runner of every instance (this one too, through its listener): each
            // sleeps until its soonest pending schedule, which this one may now be. Delivered at commit.
            await connection.ExecuteAsync(new CommandDefinition(NotifySql, new { ProjectId = projectId.Value }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
            return TypedResults.Created($"{http.Path.Value!.TrimEnd('/')}/{schedule.Id}", schedule.ToResponse());
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            return TypedResults.NotFound(); // the flag or the environment was deleted meanwhile
        }
    }
}
