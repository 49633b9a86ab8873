using Dapper;
using FlagService.Features.Audit;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Projects.Update;

public static class UpdateProject
{
    // Omitted (or null) fields keep their value; an empty description clears it.
    public sealed record UpdateProjectRequest(string? Name = null, string? Description = null);

    public static RouteHandlerBuilder MapUpdateProject(this IEndpointRouteBuilder projects) =>
        projects.MapPut("/{projectId}", HandleAsync).WithName(nameof(UpdateProject));

    private const string Sql = $"""
        UPDATE projects p
           SET name = COALESCE(@Name, p.name),
               description = CASE WHEN @Description IS NULL THEN p.description ELSE NULLIF(@Description, '') END,
               updated_at = now()
         WHERE p.id = @ProjectId;
        {ProjectsEndpoints.SelectScoped};
        """;

    internal static async Task<Results<Ok<ProjectResponse>, NotFound, ValidationProblem>> HandleAsync(
        ProjectScope scope, UpdateProjectRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (request is { Name: null, Description: null })
        {
            errors.Add("body", "must contain at least one of: name, description");
        }
        var (name, description) = ProjectInput.Validate(errors, request.Name, request.Description, nameRequired: false);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Project, scope.ProjectId, scope.ProjectId, null, ct);
        var project = await connection.QuerySingleOrDefaultAsync<ProjectResponse>(new CommandDefinition(Sql,
            new { scope.ProjectId, scope.Role, Name = name, Description = description },
            transaction, cancellationToken: ct));
        if (project is null)
        {
            return TypedResults.NotFound();
        }
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, project.Id, "project.updated", AuditResources.Project, project.Id, ct, before);
        await transaction.CommitAsync(ct);
        return TypedResults.Ok(project);
    }
}
