using System.Text.Json;
using FlagService.Features.Environments;
using FlagService.Features.Flags.Create;
using FlagService.Features.Flags.Delete;
using FlagService.Features.Flags.Get;
using FlagService.Features.Flags.List;
using FlagService.Features.Flags.Toggle;
using FlagService.Features.Flags.Update;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Flags;

// A flag with its state in one environment (`environment`), and every environment's state at a glance.
public sealed record FlagResponse(
    Guid Id, Guid ProjectId, string Name, string Key, string? Description, bool Enabled, int RolloutPercentage,
    DateTime CreatedAt, DateTime UpdatedAt, string Environment, Dictionary<string, FlagStateSummary> Environments);

public sealed record FlagStateSummary(bool Enabled, int RolloutPercentage);

// The database row: the environments arrive as one json object, in environment order.
public sealed record FlagRow(
    Guid Id, Guid ProjectId, string Name, string Key, string? Description, bool Enabled, int RolloutPercentage,
    DateTime CreatedAt, DateTime UpdatedAt, string Environment, string Environments)
{
    public FlagResponse ToResponse() => new(Id, ProjectId, Name, Key, Description, Enabled, RolloutPercentage, CreatedAt,
        UpdatedAt, Environment, JsonSerializer.Deserialize<Dictionary<string, FlagStateSummary>>(Environments, SummaryJson)!);

    private static readonly JsonSerializerOptions SummaryJson = HttpConventions.Configure(new JsonSerializerOptions());
}

public static class FlagsEndpoints
{
    // The caller's flags of the project in the path, with their state in the environment the
    // request means (EnvironmentScope.Matches). Anything else is no row, so a 404.
    public const string Select = $"""
        SELECT f.id, f.project_id, f.name, f.key, f.description, s.enabled, s.rollout_percentage, f.created_at,
               GREATEST(f.updated_at, s.updated_at) AS updated_at, e.key AS environment,
               (SELECT json_object_agg(oe.key, json_build_object('enabled', os.enabled, 'rollout_percentage', os.rollout_percentage)
                                       ORDER BY oe.is_default DESC, oe.created_at, oe.key)
                  FROM flag_environments os JOIN environments oe ON oe.id = os.environment_id
                 WHERE os.flag_id = f.id)::text AS environments
          FROM feature_flags f
          JOIN user_projects(@UserId) m ON m.project_id = f.project_id
          JOIN environments e ON e.project_id = f.project_id AND {EnvironmentScope.Matches}
          JOIN flag_environments s ON s.environment_id = e.id AND s.flag_id = f.id
         WHERE f.project_id = @ProjectId
        """;

    // The v1 routes mean the default environment; the same slices answer per environment.
    public static IEndpointRouteBuilder MapFlags(this IEndpointRouteBuilder app)
    {
        Map(app.MapGroup("/api/projects/{projectId}/flags"), "");
        Map(app.MapGroup("/api/projects/{projectId}/environments/{env}/flags"), "InEnvironment");
        return app;
    }

    private static void Map(RouteGroupBuilder flags, string suffix)
    {
        flags.WithTags("Flags").RequireAuthorization().RequireCors(CorsSettings.ManagementPolicy);
        flags.MapCreateFlag().WithName(nameof(CreateFlag) + suffix);
        flags.MapListFlags().WithName(nameof(ListFlags) + suffix);
        flags.MapGetFlag().WithName(nameof(GetFlag) + suffix);
        flags.MapUpdateFlag().WithName(nameof(UpdateFlag) + suffix);
        flags.MapDeleteFlag().WithName(nameof(DeleteFlag) + suffix);
        flags.MapToggleFlag().WithName(nameof(ToggleFlag) + suffix);
    }
}
