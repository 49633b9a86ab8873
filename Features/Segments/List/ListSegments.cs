using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Segments.List;

public static class ListSegments
{
    public static RouteHandlerBuilder MapListSegments(this IEndpointRouteBuilder segments) =>
        segments.MapGet("/", HandleAsync).WithName(nameof(ListSegments));

    // Whether the project is the caller's (else 404, not an empty list), then its segments by key.
    private const string Sql = $"""
        SELECT EXISTS (SELECT 1 FROM user_projects(@UserId) m WHERE m.project_id = @ProjectId);
        {SegmentsEndpoints.Select} ORDER BY s.key;
        """;

    internal static async Task<Results<Ok<SegmentResponse[]>, NotFound>> HandleAsync(
        PathId projectId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(Sql,
            new { ProjectId = projectId.Value, UserId = user.UserId() }, cancellationToken: ct));
        if (!await results.ReadSingleAsync<bool>())
        {
            return TypedResults.NotFound();
        }
        return TypedResults.Ok((await results.ReadAsync<SegmentRow>()).Select(s => s.ToResponse()).ToArray());
    }
}
