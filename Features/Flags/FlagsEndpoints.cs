using System.Text.Json;
using FlagService.Features.Environments;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags.Create;
using FlagService.Features.Flags.Delete;
using FlagService.Features.Flags.Get;
using FlagService.Features.Flags.List;
using FlagService.Features.Flags.Toggle;
using FlagService.Features.Flags.Update;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Flags;

// A flag with its state in one environment (`environment`), and every environment's state at a
// glance. rollout_percentage is a boolean flag's; other types say what they serve in `serve`.
public sealed record FlagResponse(
    Guid Id, Guid ProjectId, string Name, string Key, string? Description, bool Enabled, int? RolloutPercentage,
    DateTime CreatedAt, DateTime UpdatedAt, string Environment, Dictionary<string, FlagStateSummary> Environments,
    string ValueType, VariantResponse[] Variants, string OffVariant, ServeResponse Serve, PrerequisiteResponse[] Prerequisites);

public sealed record FlagStateSummary(bool Enabled, int? RolloutPercentage);

// The database row: the flag's definition and its state in the environment as the views'
// documents (FlagConfig.cs), and every environment's state at a glance.
public sealed record FlagRow(
    Guid Id, Guid ProjectId, DateTime CreatedAt, DateTime UpdatedAt, string Environment, string Environments, string Definition, string State)
{
    private static readonly JsonSerializerOptions Json = HttpConventions.Configure(new JsonSerializerOptions());

    public FlagResponse ToResponse() => FlagResponses.From(Id, ProjectId, CreatedAt, UpdatedAt, Environment,
        JsonSerializer.Deserialize<Dictionary<string, FlagStateSummary>>(Environments, Json)!,
        FlagConfigJson.Spec(Definition), FlagConfigJson.Config(State));
}

public static class FlagResponses
{
    // A boolean flag shows its rollout both ways; other types' defaults are their first variant.
    public static FlagResponse From(Guid id, Guid projectId, DateTime createdAt, DateTime updatedAt, string environment,
        Dictionary<string, FlagStateSummary> environments, FlagSpec spec, FlagConfig config)
    {
        var boolean = spec.IsBoolean;
        return new(id, projectId, spec.Name, spec.Key, spec.Description, config.Enabled, boolean ? config.RolloutPercentage : null,
            createdAt, updatedAt, environment, environments, spec.ValueType,
            [.. spec.Variants.Select(v => new VariantResponse(v.Key, v.Value, v.Name, v.Description))],
            boolean ? ValueTypes.Off : config.OffVariant ?? spec.DefaultVariant,
            boolean ? ServeResponse.Rollout(config.RolloutPercentage) : config.Serve ?? new ServeResponse(spec.DefaultVariant, null),
            [.. config.Prerequisites]);
    }
}

public static class FlagsEndpoints
{
    // The project's flags (ProjectScope checked the caller) with their state in the environment
    // the request means; anything else is no row, so a 404.
    public const string Select = """
        SELECT f.id, f.project_id, f.created_at, GREATEST(f.updated_at, s.updated_at) AS updated_at, e.key AS environment,
               (SELECT json_object_agg(oe.key, json_build_object('enabled', os.enabled, 'rollout_percentage',
                                               CASE WHEN f.value_type = 'boolean' THEN os.rollout_percentage END)
                                       ORDER BY oe.is_default DESC, oe.created_at, oe.key)
                  FROM flag_environments os JOIN environments oe ON oe.id = os.environment_id
                 WHERE os.flag_id = f.id)::text AS environments,
               d.definition::text AS definition, s.state::text AS state
          FROM feature_flags f
          JOIN flag_definitions d ON d.flag_id = f.id
          JOIN flag_states s ON s.flag_id = f.id AND s.environment_id = @EnvironmentId
          JOIN environments e ON e.id = s.environment_id
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
        flags.MapCreateFlag().WithName(nameof(CreateFlag) + suffix).RequireProjectRole(ProjectRoles.Editor);
        flags.MapListFlags().WithName(nameof(ListFlags) + suffix).RequireProjectRole(ProjectRoles.Viewer);
        flags.MapGetFlag().WithName(nameof(GetFlag) + suffix).RequireProjectRole(ProjectRoles.Viewer);
        flags.MapUpdateFlag().WithName(nameof(UpdateFlag) + suffix).RequireProjectRole(ProjectRoles.Editor);
        flags.MapDeleteFlag().WithName(nameof(DeleteFlag) + suffix).RequireProjectRole(ProjectRoles.Editor);
        flags.MapToggleFlag().WithName(nameof(ToggleFlag) + suffix).RequireProjectRole(ProjectRoles.Editor);
    }
}
