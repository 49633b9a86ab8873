using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Features.Rules;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Segments.Update;

public static class UpdateSegment
{
    // Partial: omitted fields keep their value; `included` and `excluded` replace their list.
    // `key` may be sent but must equal the current one (rules name segments by key).
    public sealed record UpdateSegmentRequest(
        string? Key = null, string? Name = null, string? Description = null, string?[]? Included = null, string?[]? Excluded = null,
        Conditions? Conditions = null);

    public static RouteHandlerBuilder MapUpdateSegment(this IEndpointRouteBuilder segments) =>
        segments.MapPut("/{segmentId}", HandleAsync).WithName(nameof(UpdateSegment));

    private const string LockSql = """
        SELECT s.key FROM segments s WHERE s.id = @SegmentId AND s.project_id = @ProjectId FOR UPDATE
        """;

    private const string UpdateSql = """
        UPDATE segments
           SET name = COALESCE(@Name, name),
               description = CASE WHEN @Description IS NULL THEN description ELSE NULLIF(@Description, '') END,
               conditions = COALESCE(CAST(@Conditions AS jsonb), conditions),
               updated_at = now()
         WHERE id = @SegmentId
        """;

    private const string ClearSql = "DELETE FROM segment_members WHERE segment_id = @SegmentId AND list = @List";

    internal static async Task<Results<Ok<SegmentResponse>, NotFound, ValidationProblem>> HandleAsync(
        ProjectScope scope, PathId segmentId, UpdateSegmentRequest request, NpgsqlDataSource db, ProjectChanges changes,
        CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (request is { Name: null, Description: null, Included: null, Excluded: null } && request.Conditions is not { IsPresent: true })
        {
            errors.Add("body", "must contain at least one of: name, description, included, excluded, conditions");
        }
        var name = errors.Text("name", request.Name, 1, ProjectInput.NameMax, required: false);
        var description = errors.Text("description", request.Description, 0, ProjectInput.DescriptionMax, required: false);
        var included = SegmentInput.Identifiers(errors, "included", request.Included);
        var excluded = SegmentInput.Identifiers(errors, "excluded", request.Excluded);
        var conditions = SegmentInput.Conditions(errors, request.Conditions);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var args = new { scope.ProjectId, SegmentId = segmentId.Value };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var key = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(LockSql, args, transaction, cancellationToken: ct));
        if (key is null)
        {
            return TypedResults.NotFound();
        }
        if (request.Key is not null && request.Key != key)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["key"] = ["cannot be changed (rules name the segment by it)"] });
        }

        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Segment, scope.ProjectId, args.SegmentId, null, ct);
        await connection.ExecuteAsync(new CommandDefinition(UpdateSql, new
        {
            args.SegmentId, Name = name, Description = description, Conditions = conditions,
        }, transaction, cancellationToken: ct));
        foreach (var (list, identifiers) in new[] { ("included", included), ("excluded", excluded) })
        {
            if (identifiers is null)
            {
                continue;
            }
            await connection.ExecuteAsync(new CommandDefinition(ClearSql, new { args.SegmentId, List = list }, transaction, cancellationToken: ct));
            await connection.ExecuteScalarAsync<long>(new CommandDefinition(SegmentsEndpoints.ChangeMembers,
                new { args.SegmentId, List = list, Add = identifiers, Remove = Array.Empty<string>() }, transaction, cancellationToken: ct));
        }
        var segment = await connection.QuerySingleAsync<SegmentRow>(new CommandDefinition(
            $"{SegmentsEndpoints.Select} AND s.id = @SegmentId", args, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "segment.updated", AuditResources.Segment, segment.Id, ct, before);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.Ok(segment.ToResponse());
    }
}
