using FlagService.Features.Audit.List;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Audit;

public static class AuditEndpoints
{
    // Read only: no route updates or deletes an entry (and the table's trigger refuses both).
    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/projects/{projectId}/audit").WithTags("Audit log")
            .RequireAuthorization()
            .RequireCors(CorsSettings.ManagementPolicy)
            .MapListAudit().RequireProjectRole(ProjectRoles.Viewer).WithEnvironmentQueryAsFilter();
        return app;
    }
}
