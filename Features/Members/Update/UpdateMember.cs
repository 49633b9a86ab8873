using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Members.Update;

public static class UpdateMember
{
    public sealed record UpdateMemberRequest(string? Role);

    public static RouteHandlerBuilder MapUpdateMember(this IEndpointRouteBuilder members) =>
        members.MapPut("/{userId}", HandleAsync).WithName(nameof(UpdateMember));

    private const string Sql = $"""
        UPDATE project_members pm SET role = @Role
          FROM users u
         WHERE pm.project_id = @ProjectId AND pm.user_id = @MemberId AND u.id = pm.user_id
        RETURNING pm.user_id, u.email, pm.role, pm.added_at
        """;

    internal static async Task<Results<Ok<MemberResponse>, NotFound, ValidationProblem, ProblemHttpResult>> HandleAsync(
        ProjectScope scope, PathId userId, UpdateMemberRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var role = MembersEndpoints.ValidateRole(errors, request.Role);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var args = new { scope.ProjectId, MemberId = userId.Value, Role = role };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(MembersEndpoints.LockProject, args, transaction, cancellationToken: ct));
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Member, scope.ProjectId, userId.Value, null, ct);
        var member = await connection.QuerySingleOrDefaultAsync<MemberResponse>(new CommandDefinition(Sql, args, transaction, cancellationToken: ct));
        if (member is null)
        {
            return TypedResults.NotFound();
        }
        // Checked after the change, under the project lock: demoting the last owner is undone.
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(MembersEndpoints.OwnersLeft, args, transaction, cancellationToken: ct)) == 0)
        {
            return MembersEndpoints.LastOwner();
        }
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "member.role_changed", AuditResources.Member, userId.Value, ct, before);
        await transaction.CommitAsync(ct);
        return TypedResults.Ok(member);
    }
}
