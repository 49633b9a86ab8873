using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Environments;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Projects.Create;

public static class CreateProject
{
    public sealed record CreateProjectRequest(string? Name, string? Description = null);

    public static RouteHandlerBuilder MapCreateProject(this IEndpointRouteBuilder projects) =>
        projects.MapPost("/", HandleAsync).WithName(nameof(CreateProject));

    // One statement, so one transaction: a project never exists without its two environments and its
    // first owner, the creator.
    private const string Sql = """
        WITH project AS (
            INSERT INTO projects (name, description, created_by) VALUES (@Name, @Description, @UserId)
            RETURNING id, name, description, created_at, updated_at),
        owner AS (
            INSERT INTO project_members (project_id, user_id, role) SELECT id, @UserId, 'owner' FROM project),
        production AS (
            INSERT INTO environments (project_id, key, name, sdk_key, server_key, is_default)
            SELECT id, 'production', 'Production', @ProductionSdkKey, @ProductionServerKey, true FROM project
            RETURNING sdk_key),
        staging AS (
            INSERT INTO environments (project_id, key, name, sdk_key, server_key, is_default)
            SELECT id, 'staging', 'Staging', @StagingSdkKey, @StagingServerKey, false FROM project)
        SELECT project.id, project.name, project.description, production.sdk_key, project.created_at, project.updated_at,
               'owner' AS role
          FROM project, production
        """;

    internal static async Task<Results<Created<ProjectResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        CreateProjectRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        // A token capped to one project, or to reading, must not gain a project of its own (whose
        // owner it would then act for).
        if (user.IsToken() && (user.TokenProject() is not null || user.TokenRole() == ProjectRoles.Viewer))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Token cannot create projects",
                detail: "This API token is capped to one project or to the viewer role, so it cannot create projects; use an uncapped editor token or a JWT.");
        }
        var errors = new FieldErrors();
        var (name, description) = ProjectInput.Validate(errors, request.Name, request.Description, nameRequired: true);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var project = await connection.QuerySingleAsync<ProjectResponse>(new CommandDefinition(Sql, new
        {
            Name = name, Description = description, UserId = user.UserId(),
            ProductionSdkKey = EnvironmentKeys.NewSdkKey(), ProductionServerKey = EnvironmentKeys.NewServerKey(),
            StagingSdkKey = EnvironmentKeys.NewSdkKey(), StagingServerKey = EnvironmentKeys.NewServerKey(),
        }, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, user, project.Id, "project.created", AuditResources.Project, project.Id, ct);
        await transaction.CommitAsync(ct);
        return TypedResults.Created($"/api/projects/{project.Id}", project);
    }
}
