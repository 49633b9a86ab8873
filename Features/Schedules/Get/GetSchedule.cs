using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
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
        PathId projectId, EnvironmentRef env, PathId flagId, PathId scheduleId, ClaimsPrincipal user, NpgsqlDataSource db,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var schedule = await connection.QuerySingleOrDefaultAsync<ScheduleRow>(new CommandDefinition(Sql, new
        {
            ProjectId = projectId.Value, FlagId = flagId.Value, ScheduleId = scheduleId.Value, UserId = user.UserId(),
            EnvId = env.Id, EnvKey = env.Key,
        }, cancellationToken: ct));
        return schedule is null ? TypedResults.NotFound() : TypedResults.Ok(schedule.ToResponse());
    }
}
