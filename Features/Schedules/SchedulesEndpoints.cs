using System.Text.Json.Serialization;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Features.Schedules.Cancel;
using FlagService.Features.Schedules.Create;
using FlagService.Features.Schedules.Get;
using FlagService.Features.Schedules.List;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Schedules;

public static class ScheduleStatus
{
    public const string Pending = "pending";
    public const string Applied = "applied";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

// `change` lists only the fields the schedule writes; a boolean flag's rollout is shown both ways,
// as on a flag.
public sealed record ScheduleResponse(
    Guid Id, Guid FlagId, string Environment, DateTime At, ChangeResponse Change, Guid? CreatedBy, string Status,
    DateTime CreatedAt, DateTime? AppliedAt, string? FailureReason, DateTime? CancelledAt);

public sealed record ChangeResponse(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Enabled,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RolloutPercentage,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? OffVariant,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ServeResponse? Serve);

public sealed record ScheduleRow(
    Guid Id, Guid FlagId, string Environment, DateTime At, bool? Enabled, int? RolloutPercentage, string? OffVariant, string? Serve,
    Guid? CreatedBy, string Status, DateTime CreatedAt, DateTime? AppliedAt, string? FailureReason, DateTime? CancelledAt,
    string ValueType)
{
    public ScheduleResponse ToResponse()
    {
        var serve = ValueType == ValueTypes.Boolean
            ? RolloutPercentage is { } rollout ? ServeResponse.Rollout(rollout) : null
            : ServeResponse.Parse(Serve);
        return new(Id, FlagId, Environment, At, new ChangeResponse(Enabled, RolloutPercentage, OffVariant, serve), CreatedBy, Status,
            CreatedAt, AppliedAt, FailureReason, CancelledAt);
    }
}

public static class SchedulesEndpoints
{
    public const string Columns = """
        c.id, c.flag_id, e.key AS environment, c.at, c.enabled, c.rollout_percentage, c.off_variant, c.serve::text AS serve,
        c.created_by, c.status, c.created_at, c.applied_at, c.failure_reason, c.cancelled_at, f.value_type
        """;

    // The schedules of the flag in the path, in the environment the request means (ProjectScope
    // checked the caller); anything else is no row.
    public const string Select = $"""
        SELECT {Columns}
          FROM flag_schedules c
          JOIN feature_flags f ON f.id = c.flag_id
          JOIN environments e ON e.id = c.environment_id
         WHERE c.flag_id = @FlagId AND f.project_id = @ProjectId AND c.environment_id = @EnvironmentId
        """;

    // Whether the flag is the project's: an unknown flag is a 404, one without schedules an empty list.
    public const string FlagExists = "SELECT EXISTS (SELECT 1 FROM feature_flags WHERE id = @FlagId AND project_id = @ProjectId)";

    public static IEndpointRouteBuilder MapSchedules(this IEndpointRouteBuilder app)
    {
        var schedules = app.MapGroup("/api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules").WithTags("Schedules")
            .RequireAuthorization()
            .RequireCors(CorsSettings.ManagementPolicy);
        schedules.MapCreateSchedule().WithName(nameof(CreateSchedule)).RequireProjectRole(ProjectRoles.Editor);
        schedules.MapListSchedules().WithName(nameof(ListSchedules)).RequireProjectRole(ProjectRoles.Viewer);
        schedules.MapGetSchedule().WithName(nameof(GetSchedule)).RequireProjectRole(ProjectRoles.Viewer);
        schedules.MapCancelSchedule().WithName(nameof(CancelSchedule)).RequireProjectRole(ProjectRoles.Editor);
        return app;
    }
}
