using Dapper;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Schedules.List;

public static class ListSchedules
{
    public static RouteHandlerBuilder MapListSchedules(this IEndpointRouteBuilder schedules) =>
        schedules.MapGet("/", HandleAsync);

    // Every schedule of the flag in the environment, whatever became of it (pending, applied,
    // failed, cancelled), soonest first. The first statement tells an unknown flag or environment
    // (404) from one without schedules (an empty list).
    private const string Sql = $"""
        {SchedulesEndpoints.FlagExists};
        {SchedulesEndpoints.Select}
         ORDER BY c.at, c.created_at, c.id;
        """;

    internal static async Task<Results<Ok<ScheduleResponse[]>, NotFound>> HandleAsync(
        ProjectScope scope, PathId flagId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(Sql,
            new { scope.ProjectId, scope.EnvironmentId, FlagId = flagId.Value }, cancellationToken: ct));
        if (!await results.ReadSingleAsync<bool>())
        {
            return TypedResults.NotFound();
        }
        var schedules = await results.ReadAsync<ScheduleRow>();
        return TypedResults.Ok(schedules.Select(s => s.ToResponse()).ToArray());
    }
}
