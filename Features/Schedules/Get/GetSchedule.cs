using Dapper;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Schedules.Get;

public static class GetSchedule
{
    // The Location of a created schedule: where a client watches it become applied or failed.
    public static RouteHandlerBuilder MapGetSchedule(this IEndpointRouteBuilder schedules) =>
        schedules.MapGet("/{scheduleId}", HandleAsync);

    private const string Sql = $"{SchedulesEndpoints.Select} AND c.id = @ScheduleId";

    internal static async Task<Results<Ok<ScheduleResponse>, NotFound>> HandleAsync(
        ProjectScope scope, PathId flagId, PathId scheduleId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var schedule = await connection.QuerySingleOrDefaultAsync<ScheduleRow>(new CommandDefinition(Sql,
            new { scope.ProjectId, scope.EnvironmentId, FlagId = flagId.Value, ScheduleId = scheduleId.Value }, cancellationToken: ct));
        return schedule is null ? TypedResults.NotFound() : TypedResults.Ok(schedule.ToResponse());
    }
}
