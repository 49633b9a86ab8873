using Dapper;
using FlagService.Features.Projects;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Segments.List;

public static class ListSegments
{
    public static RouteHandlerBuilder MapListSegments(this IEndpointRouteBuilder segments) =>
        segments.MapGet("/", HandleAsync).WithName(nameof(ListSegments));

    private const string Sql = $"{SegmentsEndpoints.Select} ORDER BY s.key";

    // The scope is the caller's project (RequireProjectRole answered 404 otherwise).
    internal static async Task<Ok<SegmentResponse[]>> HandleAsync(ProjectScope scope, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var segments = await connection.QueryAsync<SegmentRow>(new CommandDefinition(Sql, new { scope.ProjectId }, cancellationToken: ct));
        return TypedResults.Ok(segments.Select(s => s.ToResponse()).ToArray());
    }
}
