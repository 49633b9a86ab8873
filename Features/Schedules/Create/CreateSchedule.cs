using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using FlagService.Features.Projects;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
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

        public FlagStateRequest State => new(Enabled, RolloutPercentage, OffVariant, Serve);
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
        ProjectScope scope, PathId flagId, CreateScheduleRequest request, NpgsqlDataSource db, HttpRequest http, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var target = await FlagConfigStore.ReadAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, ct);
        if (target is null)
        {
            return TypedResults.NotFound();
        }

        // The database's clock decides, as it does when the runners look for due schedules.
        var now = await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition("SELECT now()", transaction: transaction, cancellationToken: ct));
        var errors = new FieldErrors();
        if (request.At is not { } at)
        {
            errors.Add("at", "is required");
        }
        else if (at.UtcDateTime <= now)
        {
            errors.Add("at", $"must be in the future (the server's time is {now:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'})");
        }
        var change = request.Change;
        FlagStateRequest? normalized = null;
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
            normalized = ScheduledChange.Validate(target.Spec, change.State, errors);
        }
        if (errors.Any || normalized is null)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var schedule = await connection.QuerySingleAsync<ScheduleRow>(new CommandDefinition(Sql, new
        {
            FlagId = flagId.Value, scope.EnvironmentId, Environment = scope.Environment.Key, target.Spec.ValueType, At = request.At!.Value.UtcDateTime,
            normalized.Enabled, normalized.RolloutPercentage, normalized.OffVariant,
            Serve = ServeResponse.From(normalized.Serve) is { } serve ? FlagConfigJson.Serialize(serve) : null, UserId = scope.Actor.UserId,
        }, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "schedule.created", AuditResources.Schedule, schedule.Id, ct,
            environmentId: scope.EnvironmentId);
        // Wakes the schedule runner of every instance (this one too, through its listener): each
        // sleeps until its soonest pending schedule, which this one may now be. Delivered at commit.
        await connection.ExecuteAsync(new CommandDefinition(NotifySql, new { scope.ProjectId }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return TypedResults.Created($"{http.Path.Value!.TrimEnd('/')}/{schedule.Id}", schedule.ToResponse());
    }
}
