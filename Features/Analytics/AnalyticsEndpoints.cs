using FlagService.Features.Analytics.Evaluations;
using FlagService.Features.Analytics.Stats;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Analytics;

public static class AnalyticsEndpoints
{
    public static IEndpointRouteBuilder MapAnalytics(this IEndpointRouteBuilder app)
    {
        var analytics = app.MapGroup("/api/projects/{projectId}/flags/{flagId}").WithTags("Analytics")
            .RequireAuthorization()
            .RequireCors(CorsSettings.ManagementPolicy);
        analytics.MapGetFlagStats().RequireProjectRole(ProjectRoles.Viewer);
        analytics.MapGetUserEvaluation().RequireProjectRole(ProjectRoles.Viewer);
        return app;
    }
}
