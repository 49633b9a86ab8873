using FlagService.Features.Projects.Create;
using FlagService.Features.Projects.Delete;
using FlagService.Features.Projects.Get;
using FlagService.Features.Projects.List;
using FlagService.Features.Projects.RegenerateKey;
using FlagService.Features.Projects.Update;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Projects;

public sealed record ProjectResponse(
    Guid Id, string Name, string? Description, string SdkKey, DateTime CreatedAt, DateTime UpdatedAt, string Role);

public static class ProjectsEndpoints
{
    // The projects the caller is a member of (user_projects, from Migrations/0005 and 0010, is the
    // one place that says who may touch a project), with the v1 sdk_key (the default environment's)
    // and the caller's role. A token capped to one project sees only that one.
    public const string Select = """
        SELECT p.id, p.name, p.description, e.sdk_key, p.created_at, p.updated_at, m.role
          FROM projects p
          JOIN user_projects(@UserId) m ON m.project_id = p.id
                                       AND (CAST(@ProjectCap AS uuid) IS NULL OR m.project_id = @ProjectCap)
          JOIN environments e ON e.project_id = p.id AND e.is_default
        """;

    // One project, read by a route of it (ProjectScope has checked access), with the caller's
    // effective role there (@Role: a viewer token of an owner reads "viewer").
    public const string SelectScoped = """
        SELECT p.id, p.name, p.description, e.sdk_key, p.created_at, p.updated_at, CAST(@Role AS text) AS role
          FROM projects p
          JOIN environments e ON e.project_id = p.id AND e.is_default
         WHERE p.id = @ProjectId
        """;

    public static IEndpointRouteBuilder MapProjects(this IEndpointRouteBuilder app)
    {
        var projects = app.MapGroup("/api/projects").WithTags("Projects")
            .RequireAuthorization()
            .RequireCors(CorsSettings.ManagementPolicy);
        projects.MapCreateProject();
        projects.MapListProjects();
        projects.MapGetProject().RequireProjectRole(ProjectRoles.Viewer);
        projects.MapUpdateProject().RequireProjectRole(ProjectRoles.Owner);
        projects.MapDeleteProject().RequireProjectRole(ProjectRoles.Owner);
        projects.MapRegenerateKey().RequireProjectRole(ProjectRoles.Owner);
        return app;
    }
}
