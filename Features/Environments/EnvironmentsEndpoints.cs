using FlagService.Features.Environments.CopyFrom;
using FlagService.Features.Environments.Create;
using FlagService.Features.Environments.Delete;
using FlagService.Features.Environments.Get;
using FlagService.Features.Environments.List;
using FlagService.Features.Environments.RegenerateKeys;
using FlagService.Features.Environments.Update;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Environments;

public sealed record EnvironmentResponse(
    Guid Id, Guid ProjectId, string Key, string Name, string? Description, string SdkKey, string? ServerKey,
    bool IsDefault, DateTime CreatedAt, DateTime UpdatedAt)
{
    // The server key is a backend secret: only owners see it. Editors and viewers still see the
    // sdk key, which browsers carry anyway and applications need to be configured.
    public EnvironmentResponse For(string? role) => role == ProjectRoles.Owner ? this : this with { ServerKey = null };
}

public static class EnvironmentsEndpoints
{
    public const string Columns =
        "e.id, e.project_id, e.key, e.name, e.description, e.sdk_key, e.server_key, e.is_default, e.created_at, e.updated_at";

    // The environments of the project in the path (ProjectScope has checked the caller's access).
    public const string Select = $"SELECT {Columns} FROM environments e WHERE e.project_id = @ProjectId";

    public static IEndpointRouteBuilder MapEnvironments(this IEndpointRouteBuilder app)
    {
        var environments = app.MapGroup("/api/projects/{projectId}/environments").WithTags("Environments")
            .RequireAuthorization()
            .RequireCors(CorsSettings.ManagementPolicy);
        environments.MapCreateEnvironment().RequireProjectRole(ProjectRoles.Owner);
        environments.MapListEnvironments().RequireProjectRole(ProjectRoles.Viewer);
        environments.MapGetEnvironment().RequireProjectRole(ProjectRoles.Viewer);
        environments.MapUpdateEnvironment().RequireProjectRole(ProjectRoles.Owner);
        environments.MapDeleteEnvironment().RequireProjectRole(ProjectRoles.Owner);
        environments.MapRegenerateKeys().RequireProjectRole(ProjectRoles.Owner);
        // Copying flag state between environments is an editor's promotion, not a change of environments.
        environments.MapCopyFrom().RequireProjectRole(ProjectRoles.Editor);
        return app;
    }
}
