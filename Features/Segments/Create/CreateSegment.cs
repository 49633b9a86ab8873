using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Features.Projects;
using FlagService.Features.Rules;
using FlagService.Infrastructure.Auth;
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

    private const string InsertSql = """
        INSERT INTO segments (project_id, key, name, description, conditions)
        SELECT p.id, @Key, @Name, @Description, CAST(@Conditions AS jsonb)
          FROM projects p JOIN user_projects(@UserId) m ON m.project_id = p.id
         WHERE p.id = @ProjectId
        RETURNING id
        """;

    internal static async Task<Results<Created<SegmentResponse>, NotFound, ValidationProblem, ProblemHttpResult>> HandleAsync(
        PathId projectId, CreateSegmentRequest request, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes,
        CancellationToken ct)
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

        var scope = new { ProjectId = projectId.Value, UserId = user.UserId() };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        Guid? id;
        try
        {
            id = await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(InsertSql, new
            {
                scope.ProjectId, scope.UserId, request.Key, Name = name, Conditions = conditions,
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
            new { scope.ProjectId, scope.UserId, Id = id }, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, user, scope.ProjectId, "segment.created", AuditResources.Segment, segment.Id, ct);
        await transaction.CommitAsync(ct);
        changes.Publish(projectId.Value);
        return TypedResults.Created($"/api/projects/{projectId}/segments/{segment.Id}", segment.ToResponse());
    }
}
