using FlagService.Features.Flags.Create;
using FlagService.Features.Flags.Delete;
using FlagService.Features.Flags.Get;
using FlagService.Features.Flags.List;
using FlagService.Features.Flags.Toggle;
using FlagService.Features.Flags.Update;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Flags;

public sealed record FlagResponse(
    Guid Id, Guid ProjectId, string Name, string Key, string? Description, bool Enabled, int RolloutPercentage,
    DateTime CreatedAt, DateTime UpdatedAt);

public static class FlagsEndpoints
{
    public const string Columns =
        "f.id, f.project_id, f.name, f.key, f.description, f.enabled, f.rollout_percentage, f.created_at, f.updated_at";

    // Joined into every flag statement: the flag belongs to the project in the path, and the project
    // to the caller. Anything else is a 404.
    public const string OwnedBy = "f.project_id = @ProjectId AND p.id = f.project_id AND p.created_by = @UserId";

    public static IEndpointRouteBuilder MapFlags(this IEndpointRouteBuilder app)
    {
        var flags = app.MapGroup("/api/projects/{projectId}/flags").WithTags("Flags")
            .RequireAuthorization()
            .RequireCors(CorsSettings.ManagementPolicy);
        flags.MapCreateFlag();
        flags.MapListFlags();
        flags.MapGetFlag();
        flags.MapUpdateFlag();
        flags.MapDeleteFlag();
        flags.MapToggleFlag();
        return app;
    }
}
