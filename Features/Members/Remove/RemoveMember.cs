using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Members.Remove;

public static class RemoveMember
{
    public static RouteHandlerBuilder MapRemoveMember(this IEndpointRouteBuilder members) =>
        members.MapDelete("/{userId}", HandleAsync).WithName(nameof(RemoveMember));

    // A member may remove themselves; removing someone else needs the owner role, checked here on
    // the caller's own membership row. `removed` is null when there was no such member.
    private const string Sql = """
        WITH caller AS (SELECT role FROM user_projects(@UserId) WHERE project_id = @ProjectId),
        removed AS (
            DELETE FROM project_members pm
             WHERE pm.project_id = @ProjectId AND pm.user_id = @MemberId
               AND (pm.user_id = @UserId OR (SELECT role FROM caller) = 'owner')
            RETURNING pm.user_id)
        SELECT (SELECT count(*) FROM removed) AS removed,
               EXISTS (SELECT 1 FROM project_members WHERE project_id = @ProjectId AND user_id = @MemberId) AS exists
        """;

    private sealed record Outcome(long Removed, bool Exists);

    internal static async Task<Results<NoContent, NotFound, ProblemHttpResult>> HandleAsync(
        PathId projectId, PathId userId, ClaimsPrincipal user, HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        var args = new { ProjectId = projectId.Value, MemberId = userId.Value, UserId = user.UserId() };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(MembersEndpoints.LockProject, args, transaction, cancellationToken: ct));
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Member, projectId.Value, userId.Value, null, ct);
        var outcome = await connection.QuerySingleAsync<Outcome>(new CommandDefinition(Sql, args, transaction, cancellationToken: ct));
        if (outcome.Removed == 0)
        {
            // The statement's snapshot still sees the row it did not delete: someone else's membership.
            return outcome.Exists
                ? ProjectScope.Forbidden(ProjectRoles.Owner, http.ProjectRole() ?? ProjectRoles.Viewer)
                : TypedResults.NotFound();
        }
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(MembersEndpoints.OwnersLeft, args, transaction, cancellationToken: ct)) == 0)
        {
            return MembersEndpoints.LastOwner();
        }
        await AuditTrail.RecordAsync(connection, transaction, user, projectId.Value, "member.removed", AuditResources.Member, userId.Value, ct, before);
        await transaction.CommitAsync(ct);
        return TypedResults.NoContent();
    }
}
