using Dapper;
using FlagService.Features.Projects;
using FlagService.Features.Audit;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Schedules.Cancel;

public static class CancelSchedule
{
    public static RouteHandlerBuilder MapCancelSchedule(this IEndpointRouteBuilder schedules) =>
        schedules.MapDelete("/{scheduleId}", HandleAsync);

    // A cancelled schedule is kept (status `cancelled`), as the record that it was planned. The
    // row lock waits for a runner that is applying it right now; FOR UPDATE then reads the row as
    // that runner committed it, so a schedule is either cancelled or applied, never both.
    private const string Sql = """
        WITH target AS (
            SELECT c.id, c.status
              FROM flag_schedules c
              JOIN feature_flags f ON f.id = c.flag_id
             WHERE c.id = @ScheduleId AND c.flag_id = @FlagId AND f.project_id = @ProjectId AND c.environment_id = @EnvironmentId
               FOR UPDATE OF c),
        cancelled AS (
            UPDATE flag_schedules c SET status = 'cancelled', cancelled_at = now()
              FROM target t
             WHERE c.id = t.id AND t.status = 'pending'
            RETURNING c.id)
        SELECT t.status FROM target t
        """;

    internal static async Task<Results<NoContent, NotFound, ProblemHttpResult>> HandleAsync(
        ProjectScope scope, PathId flagId, PathId scheduleId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Schedule, scope.ProjectId, scheduleId.Value, null, ct);
        var status = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(Sql,
            new { scope.ProjectId, scope.EnvironmentId, FlagId = flagId.Value, ScheduleId = scheduleId.Value }, transaction, cancellationToken: ct));
        if (status == ScheduleStatus.Pending)
        {
            await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "schedule.cancelled", AuditResources.Schedule,
                scheduleId.Value, ct, before, scope.EnvironmentId);
            await transaction.CommitAsync(ct);
        }
        return status switch
        {
            null => TypedResults.NotFound(),
            ScheduleStatus.Pending => TypedResults.NoContent(),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Schedule not pending",
                detail: $"Only a pending schedule can be cancelled; this one is {status}.",
                extensions: new Dictionary<string, object?> { ["schedule_status"] = status }),
        };
    }
}
