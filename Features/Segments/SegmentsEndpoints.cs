using System.Text.Json;
using FlagService.Features.Rules;
using FlagService.Features.Segments.Create;
using FlagService.Features.Segments.Delete;
using FlagService.Features.Segments.Get;
using FlagService.Features.Segments.List;
using FlagService.Features.Segments.Members;
using FlagService.Features.Segments.Update;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Segments;

public sealed record SegmentResponse(
    Guid Id, Guid ProjectId, string Key, string Name, string? Description, string[] Included, string[] Excluded,
    Conditions Conditions, DateTime CreatedAt, DateTime UpdatedAt);

// The database row: the lists and conditions arrive as json text.
public sealed record SegmentRow(
    Guid Id, Guid ProjectId, string Key, string Name, string? Description, string Included, string Excluded, string Conditions,
    DateTime CreatedAt, DateTime UpdatedAt)
{
    public SegmentResponse ToResponse() => new(Id, ProjectId, Key, Name, Description,
        JsonSerializer.Deserialize<string[]>(Included)!, JsonSerializer.Deserialize<string[]>(Excluded)!,
        Rules.Conditions.FromStored(Conditions), CreatedAt, UpdatedAt);
}

public static class SegmentsEndpoints
{
    // Ten thousand identifiers do not fit the management API's 64 KiB.
    public const int BodyLimit = 1024 * 1024;

    // The segments of the project in the path (ProjectScope checked the caller's access), lists sorted.
    public const string Select = """
        SELECT s.id, s.project_id, s.key, s.name, s.description,
               COALESCE((SELECT json_agg(x.identifier ORDER BY x.identifier) FROM segment_members x
                          WHERE x.segment_id = s.id AND x.list = 'included'), '[]')::text AS included,
               COALESCE((SELECT json_agg(x.identifier ORDER BY x.identifier) FROM segment_members x
                          WHERE x.segment_id = s.id AND x.list = 'excluded'), '[]')::text AS excluded,
               s.conditions::text AS conditions, s.created_at, s.updated_at
          FROM segments s
         WHERE s.project_id = @ProjectId
        """;

    // Adds @Add to and removes @Remove from list @List of segment @SegmentId; the count after
    // tells whether the list stays within SegmentInput.MaxIdentifiers.
    public const string ChangeMembers = """
        DELETE FROM segment_members WHERE segment_id = @SegmentId AND list = @List AND identifier = ANY(@Remove);
        INSERT INTO segment_members (segment_id, list, identifier)
        SELECT @SegmentId, @List, u.identifier FROM unnest(CAST(@Add AS text[])) AS u(identifier)
        ON CONFLICT DO NOTHING;
        SELECT count(*) FROM segment_members WHERE segment_id = @SegmentId AND list = @List;
        """;

    public static IEndpointRouteBuilder MapSegments(this IEndpointRouteBuilder app)
    {
        var segments = app.MapGroup("/api/projects/{projectId}/segments").WithTags("Segments")
            .RequireAuthorization()
            .RequireCors(CorsSettings.ManagementPolicy)
            .WithMetadata(new BodyLimit(BodyLimit));
        segments.MapCreateSegment().RequireProjectRole(ProjectRoles.Editor);
        segments.MapListSegments().RequireProjectRole(ProjectRoles.Viewer);
        segments.MapGetSegment().RequireProjectRole(ProjectRoles.Viewer);
        segments.MapUpdateSegment().RequireProjectRole(ProjectRoles.Editor);
        segments.MapDeleteSegment().RequireProjectRole(ProjectRoles.Editor);
        segments.MapChangeMembers().RequireProjectRole(ProjectRoles.Editor);
        return app;
    }
}
