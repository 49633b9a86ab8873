using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Segments.Members;

// POST .../segments/{sid}/included (or /excluded) {add?, remove?}: changes one list without
// resending it. Removing comes first, so an identifier in both ends up in the list.
public static class ChangeMembers
{
    public sealed record ChangeMembersRequest(string?[]? Add = null, string?[]? Remove = null);

    private static readonly string[] Lists = ["included", "excluded"];

    public static RouteHandlerBuilder MapChangeMembers(this IEndpointRouteBuilder segments) =>
        segments.MapPost("/{segmentId}/{list}", HandleAsync).WithName(nameof(ChangeMembers));

    private const string LockSql = """
        SELECT s.id FROM segments s WHERE s.id = @SegmentId AND s.project_id = @ProjectId FOR UPDATE
        """;

    internal static async Task<Results<Ok<SegmentResponse>, NotFound, ValidationProblem>> HandleAsync(
        ProjectScope scope, PathId segmentId, string list, ChangeMembersRequest request, NpgsqlDataSource db, ProjectChanges changes,
        CancellationToken ct)
    {
        if (!Lists.Contains(list))
        {
            return TypedResults.NotFound();
        }
        var errors = new FieldErrors();
        var add = SegmentInput.Identifiers(errors, "add", request.Add) ?? [];
        var remove = SegmentInput.Identifiers(errors, "remove", request.Remove) ?? [];
        if (!errors.Any && add.Length == 0 && remove.Length == 0)
        {
            errors.Add("body", "must contain a non-empty add or remove");
        }
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var args = new { scope.ProjectId, SegmentId = segmentId.Value };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(LockSql, args, transaction, cancellationToken: ct)) is null)
        {
            return TypedResults.NotFound();
        }
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Segment, scope.ProjectId, args.SegmentId, null, ct);
        var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition(SegmentsEndpoints.ChangeMembers,
            new { args.SegmentId, List = list, Add = add, Remove = remove }, transaction, cancellationToken: ct));
        if (count > SegmentInput.MaxIdentifiers)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["add"] = [$"would make the {list} list {count} identifiers long; it holds at most {SegmentInput.MaxIdentifiers}"],
            });
        }
        await connection.ExecuteAsync(new CommandDefinition("UPDATE segments SET updated_at = now() WHERE id = @SegmentId", args, transaction, cancellationToken: ct));
        var segment = await connection.QuerySingleAsync<SegmentRow>(new CommandDefinition(
            $"{SegmentsEndpoints.Select} AND s.id = @SegmentId", args, transaction, cancellationToken: ct));
        // The snapshots count the lists (they may hold 10 000 identifiers); the action names the list.
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, $"segment.{list}_changed", AuditResources.Segment, segment.Id, ct, before);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.Ok(segment.ToResponse());
    }
}
