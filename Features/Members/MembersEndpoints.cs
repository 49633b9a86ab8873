using FlagService.Features.Members.AcceptInvitation;
using FlagService.Features.Members.Add;
using FlagService.Features.Members.List;
using FlagService.Features.Members.Remove;
using FlagService.Features.Members.Update;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Members;

public sealed record MemberResponse(Guid UserId, string Email, string Role, DateTime AddedAt);

public static class MembersEndpoints
{
    public const string Select = """
        SELECT pm.user_id, u.email, pm.role, pm.added_at
          FROM project_members pm JOIN users u ON u.id = pm.user_id
         WHERE pm.project_id = @ProjectId
        """;

    // Serialises member changes of one project, so "at least one owner stays" is checked against
    // the latest state and two owners cannot demote each other at the same time.
    public const string LockProject = "SELECT 1 FROM projects WHERE id = @ProjectId FOR NO KEY UPDATE";

    public const string OwnersLeft = "SELECT count(*) FROM project_members WHERE project_id = @ProjectId AND role = 'owner'";

    public static IEndpointRouteBuilder MapMembers(this IEndpointRouteBuilder app)
    {
        var members = app.MapGroup("/api/projects/{projectId}/members").WithTags("Members")
            .RequireAuthorization()
            .RequireCors(CorsSettings.ManagementPolicy);
        members.MapListMembers().RequireProjectRole(ProjectRoles.Viewer);
        members.MapAddMember().RequireJwt().RequireProjectRole(ProjectRoles.Owner);
        members.MapUpdateMember().RequireJwt().RequireProjectRole(ProjectRoles.Owner);
        // Any member may leave; RemoveMember's SQL lets only owners remove someone else.
        members.MapRemoveMember().RequireJwt().RequireProjectRole(ProjectRoles.Viewer);

        // Not under a project: the caller is no member yet, and the token says which project.
        // A person's act, like the rest of member management: a login, not an API token.
        var invitations = app.MapGroup("/api/invitations").WithTags("Members")
            .RequireAuthorization()
            .RequireJwt()
            .RequireCors(CorsSettings.ManagementPolicy);
        invitations.MapAcceptInvitation();
        return app;
    }

    public static string? ValidateRole(FieldErrors errors, string? role)
    {
        if (role is null)
        {
            errors.Add("role", "is required");
        }
        else if (!ProjectRoles.All.Contains(role))
        {
            errors.Add("role", "must be one of: owner, editor, viewer");
        }
        return role;
    }

    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult LastOwner() => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "Last owner",
        detail: "A project always keeps at least one owner: make another member an owner first.");
}
