using Dapper;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Segments.Get;

public static class GetSegment
{
    public static RouteHandlerBuilder MapGetSegment(this IEndpointRouteBuilder segments) =>
        segments.MapGet("/{segmentId}", HandleAsync).WithName(nameof(GetSegment));

    private const string Sql = $"{SegmentsEndpoints.Select} AND s.id = @SegmentId";

    internal static async Task<Results<Ok<SegmentResponse>, NotFound>> HandleAsync(
        ProjectScope scope, PathId segmentId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var segment = await connection.QuerySingleOrDefaultAsync<SegmentRow>(new CommandDefinition(Sql,
            new { scope.ProjectId, SegmentId = segmentId.Value }, cancellationToken: ct));
        return segment is null ? TypedResults.NotFound() : TypedResults.Ok(segment.ToResponse());
    }
}
