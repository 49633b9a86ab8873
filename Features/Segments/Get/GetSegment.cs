using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
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
        PathId projectId, PathId segmentId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var segment = await connection.QuerySingleOrDefaultAsync<SegmentRow>(new CommandDefinition(Sql,
            new { ProjectId = projectId.Value, SegmentId = segmentId.Value, UserId = user.UserId() }, cancellationToken: ct));
        return segment is null ? TypedResults.NotFound() : TypedResults.Ok(segment.ToResponse());
    }
}
