using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Segments.Delete;

public static class DeleteSegment
{
    public static RouteHandlerBuilder MapDeleteSegment(this IEndpointRouteBuilder segments) =>
        segments.MapDelete("/{segmentId}", HandleAsync).WithName(nameof(DeleteSegment));

    // The row lock makes a rule being created on this segment wait (it share-locks the segment),
    // so the check below sees it, or it sees the segment gone.
    private const string LockSql = """
        SELECT s.key FROM segments s WHERE s.id = @SegmentId AND s.project_id = @ProjectId FOR UPDATE
        """;

    private sealed record Use(string Flag, string Environment);

    private const string UsesSql = """
        SELECT DISTINCT f.key AS flag, e.key AS environment
          FROM targeting_rules r
          JOIN feature_flags f ON f.id = r.flag_id
          JOIN environments e ON e.id = r.environment_id
         WHERE r.rule_type = 'segment' AND r.rule_value = @Key AND f.project_id = @ProjectId
         ORDER BY f.key, e.key
        """;

    internal static async Task<Results<NoContent, NotFound, ProblemHttpResult>> HandleAsync(
        ProjectScope scope, PathId segmentId, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        var args = new { scope.ProjectId, SegmentId = segmentId.Value };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var key = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(LockSql, args, transaction, cancellationToken: ct));
        if (key is null)
        {
            return TypedResults.NotFound();
        }
        var uses = (await connection.QueryAsync<Use>(new CommandDefinition(UsesSql, new { scope.ProjectId, Key = key }, transaction, cancellationToken: ct))).ToArray();
        if (uses.Length > 0)
        {
            var places = uses.Select(u => $"flag '{u.Flag}' in '{u.Environment}'").ToArray();
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Segment in use",
                detail: $"The segment '{key}' is used by rules of: {string.Join(", ", places)}. Remove those rules first.",
                extensions: new Dictionary<string, object?> { ["used_by"] = uses.Select(u => new { flag = u.Flag, environment = u.Environment }).ToArray() });
        }
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Segment, scope.ProjectId, args.SegmentId, null, ct);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM segments WHERE id = @SegmentId", args, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "segment.deleted", AuditResources.Segment, args.SegmentId, ct, before);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.NoContent();
    }
}
