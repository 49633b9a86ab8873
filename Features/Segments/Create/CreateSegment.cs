using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Features.Projects;
using FlagService.Features.Rules;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Segments.Create;

public static class CreateSegment
{
    public sealed record CreateSegmentRequest(
        string? Key, string? Name, string? Description = null, string?[]? Included = null, string?[]? Excluded = null,
        Conditions? Conditions = null);

    public static RouteHandlerBuilder MapCreateSegment(this IEndpointRouteBuilder segments) =>
        segments.MapPost("/", HandleAsync).WithName(nameof(CreateSegment));

    // From the projects row, so a project deleted since the scope was resolved is no row (404), not
    // a foreign-key error.
    private const string InsertSql = """
        INSERT INTO segments (project_id, key, name, description, conditions)
        SELECT p.id, @Key, @Name, @Description, CAST(@Conditions AS jsonb) FROM projects p WHERE p.id = @ProjectId
        RETURNING id
        """;

    internal static async Task<Results<Created<SegmentResponse>, NotFound, ValidationProblem, ProblemHttpResult>> HandleAsync(
        ProjectScope scope, CreateSegmentRequest request, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        var errors = new FieldErrors();
        FlagInput.Key(errors, request.Key);
        var name = errors.Text("name", request.Name, 1, ProjectInput.NameMax, required: true);
        var description = errors.Text("description", request.Description, 0, ProjectInput.DescriptionMax, required: false);
        var included = SegmentInput.Identifiers(errors, "included", request.Included) ?? [];
        var excluded = SegmentInput.Identifiers(errors, "excluded", request.Excluded) ?? [];
        var conditions = SegmentInput.Conditions(errors, request.Conditions) ?? "[]";
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        Guid? id;
        try
        {
            id = await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(InsertSql, new
            {
                scope.ProjectId, request.Key, Name = name, Conditions = conditions,
                Description = string.IsNullOrEmpty(description) ? null : description,
            }, transaction, cancellationToken: ct));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return Conflicts.KeyTaken("Segment key already exists", $"The project already has a segment with the key '{request.Key}'.");
        }
        if (id is null)
        {
            return TypedResults.NotFound();
        }

        foreach (var (list, identifiers) in new[] { ("included", included), ("excluded", excluded) })
        {
            await connection.ExecuteScalarAsync<long>(new CommandDefinition(SegmentsEndpoints.ChangeMembers,
                new { SegmentId = id, List = list, Add = identifiers, Remove = Array.Empty<string>() }, transaction, cancellationToken: ct));
        }
        var segment = await connection.QuerySingleAsync<SegmentRow>(new CommandDefinition($"{SegmentsEndpoints.Select} AND s.id = @Id",
            new { scope.ProjectId, Id = id }, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "segment.created", AuditResources.Segment, segment.Id, ct);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.Created($"/api/projects/{scope.ProjectId}/segments/{segment.Id}", segment.ToResponse());
    }
}
