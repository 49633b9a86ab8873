using FlagService.Features.Projects.Create;
using FlagService.Features.Projects.Delete;
using FlagService.Features.Projects.Get;
using FlagService.Features.Projects.List;
using FlagService.Features.Projects.RegenerateKey;
using FlagService.Features.Projects.Update;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Projects;

public sealed record ProjectResponse(
    Guid Id, string Name, string? Description, string SdkKey, DateTime CreatedAt, DateTime UpdatedAt);

public static class ProjectsEndpoints
{
    // Every query below filters on created_by = the caller, so another user's project is a 404.
    public const string Columns = "id, name, description, sdk_key, created_at, updated_at";

    public static IEndpointRouteBuilder MapProjects(this IEndpointRouteBuilder app)
    {
        var projects = app.MapGroup("/api/projects").WithTags("Projects")
            .RequireAuthorization()
            .RequireCors(CorsSettings.ManagementPolicy);
        projects.MapCreateProject();
        projects.MapListProjects();
        projects.MapGetProject();
        projects.MapUpdateProject();
        projects.MapDeleteProject();
        projects.MapRegenerateKey();
        return app;
    }
}
