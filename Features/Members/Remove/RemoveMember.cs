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

    // A member may remove themselves; removing someone else needs the owner role (the scope's,
    // @IsOwner). `removed` is 0 when there was no such member or it was someone else's to remove.
    private const string Sql = """
        WITH removed AS (
            DELETE FROM project_members pm
             WHERE pm.project_id = @ProjectId AND pm.user_id = @MemberId AND (pm.user_id = @UserId OR @IsOwner)
            RETURNING pm.user_id)
        SELECT (SELECT count(*) FROM removed) AS removed,
               EXISTS (SELECT 1 FROM project_members WHERE project_id = @ProjectId AND user_id = @MemberId) AS exists
        """;

    private sealed record Outcome(long Removed, bool Exists);

    internal static async Task<Results<NoContent, NotFound, ProblemHttpResult>> HandleAsync(
        ProjectScope scope, PathId userId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var args = new { scope.ProjectId, MemberId = userId.Value, UserId = user.UserId(), IsOwner = scope.Role == ProjectRoles.Owner };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(MembersEndpoints.LockProject, args, transaction, cancellationToken: ct));
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Member, scope.ProjectId, userId.Value, null, ct);
        var outcome = await connection.QuerySingleAsync<Outcome>(new CommandDefinition(Sql, args, transaction, cancellationToken: ct));
        if (outcome.Removed == 0)
        {
            // The statement's snapshot still sees the row it did not delete: someone else's membership.
            return outcome.Exists
                ? ProjectScope.Forbidden(ProjectRoles.Owner, scope.Role!)
                : TypedResults.NotFound();
        }
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(MembersEndpoints.OwnersLeft, args, transaction, cancellationToken: ct)) == 0)
        {
            return MembersEndpoints.LastOwner();
        }
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "member.removed", AuditResources.Member, userId.Value, ct, before);
        await transaction.CommitAsync(ct);
        return TypedResults.NoContent();
    }
}
