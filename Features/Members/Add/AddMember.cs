using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Auth;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Members.Add;

public static class AddMember
{
    public sealed record AddMemberRequest(string? Email, string? Role);

    // The same answer whether the e-mail has an account (a membership now) or not (an invitation,
    // a membership once it registers): the API does not tell who has an account.
    public sealed record AddMemberResponse(string Email, string Role);

    public static RouteHandlerBuilder MapAddMember(this IEndpointRouteBuilder members) =>
        members.MapPost("/", HandleAsync).WithName(nameof(AddMember));

    // Adding someone who already is a member changes nothing (their role stays; PUT changes it).
    private const string Sql = $"""
        {MembersEndpoints.LockProject};
        WITH account AS (SELECT id FROM users WHERE lower(email) = lower(@Email)),
        member AS (
            INSERT INTO project_members (project_id, user_id, role)
            SELECT @ProjectId, id, @Role FROM account
            ON CONFLICT (project_id, user_id) DO NOTHING)
        INSERT INTO project_invitations (project_id, email, role, invited_by)
        SELECT @ProjectId, @Email, @Role, @UserId WHERE NOT EXISTS (SELECT 1 FROM account)
        ON CONFLICT (project_id, email) DO UPDATE SET role = EXCLUDED.role, invited_by = EXCLUDED.invited_by, invited_at = now();
        """;

    internal static async Task<Results<Created<AddMemberResponse>, ValidationProblem>> HandleAsync(
        ProjectScope scope, AddMemberRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var email = errors.Text("email", request.Email, 1, EmailAddress.MaxLength, required: true);
        if (email is not null && !EmailAddress.LooksValid(email))
        {
            errors.Add("email", "must look like local@domain.tld");
        }
        var role = MembersEndpoints.ValidateRole(errors, request.Role);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Member, scope.ProjectId, null, null, ct, email);
        await connection.ExecuteAsync(new CommandDefinition(Sql,
            new { scope.ProjectId, Email = email, Role = role, UserId = user.UserId() }, transaction, cancellationToken: ct));
        // No resource id: an invitation has no user yet, and the entry must not tell the two apart.
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "member.added", AuditResources.Member, null, ct,
            before, resourceKey: email);
        await transaction.CommitAsync(ct);
        return TypedResults.Created($"/api/projects/{scope.ProjectId}/members", new AddMemberResponse(email!, role!));
    }
}
