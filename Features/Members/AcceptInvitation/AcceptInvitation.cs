using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Members.AcceptInvitation;

// The e-mailed link's page posts its token here: the signed-in user whose e-mail is the invited one
// becomes a member. Holding the link proves access to the mailbox; signing in with that address
// proves the account is theirs. Neither alone is enough.
public static class AcceptInvitation
{
    public sealed record AcceptInvitationRequest(string? Token);

    public sealed record AcceptInvitationResponse(Guid ProjectId, string ProjectName, string Role);

    public static RouteHandlerBuilder MapAcceptInvitation(this IEndpointRouteBuilder invitations) =>
        invitations.MapPost("/accept", HandleAsync).WithName(nameof(AcceptInvitation))
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone);

    // The row lock makes the token single-use: of two concurrent acceptances the second waits, then
    // reads it spent.
    private const string FindSql = """
        SELECT i.project_id, p.name AS project_name, i.role, i.accepted_at IS NOT NULL AS spent, i.expires_at <= now() AS expired,
               lower(i.email) = (SELECT lower(u.email) FROM users u WHERE u.id = @UserId) AS invited_caller, i.email
          FROM project_invitations i JOIN projects p ON p.id = i.project_id
         WHERE i.token_hash = @Hash
           FOR UPDATE OF i
        """;

    // A member already (added since, by another invitation or directly) keeps the role they have.
    private const string JoinSql = """
        UPDATE project_invitations SET accepted_at = now(), accepted_by = @UserId WHERE token_hash = @Hash;
        INSERT INTO project_members (project_id, user_id, role) VALUES (@ProjectId, @UserId, @Role)
            ON CONFLICT (project_id, user_id) DO NOTHING;
        SELECT role FROM project_members WHERE project_id = @ProjectId AND user_id = @UserId;
        """;

    private sealed record Invitation(Guid ProjectId, string ProjectName, string Role, bool Spent, bool Expired, bool InvitedCaller, string Email);

    internal static async Task<Results<Ok<AcceptInvitationResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        AcceptInvitationRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var token = errors.Text("token", request.Token, 1, 200, required: true);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token!));
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var invitation = await connection.QuerySingleOrDefaultAsync<Invitation>(
            new CommandDefinition(FindSql, new { Hash = hash, UserId = user.UserId() }, transaction, cancellationToken: ct));
        // Unknown is 404, not 410: the token never named an invitation, or a newer invitation of the
        // same address replaced it.
        if (invitation is null)
        {
            return Problem(StatusCodes.Status404NotFound, "Unknown invitation",
                "No invitation has this link. Ask the project's owner to invite you again.");
        }
        if (invitation.Spent || invitation.Expired)
        {
            return Problem(StatusCodes.Status410Gone, invitation.Spent ? "Invitation already used" : "Invitation expired",
                "This invitation link has been used or is more than 7 days old. Ask the project's owner to invite you again.");
        }
        if (!invitation.InvitedCaller)
        {
            return Problem(StatusCodes.Status403Forbidden, "Invitation for another e-mail address",
                "This invitation was sent to another e-mail address: sign in with the invited address to accept it.");
        }

        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Member, invitation.ProjectId, user.UserId(), null, ct,
            invitation.Email);
        var role = await connection.QuerySingleAsync<string>(new CommandDefinition(JoinSql, new
        {
            Hash = hash, UserId = user.UserId(), invitation.ProjectId, invitation.Role,
        }, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, user, invitation.ProjectId, "invitation.accepted", AuditResources.Member,
            user.UserId(), ct, before, resourceKey: invitation.Email);
        await transaction.CommitAsync(ct);
        return TypedResults.Ok(new AcceptInvitationResponse(invitation.ProjectId, invitation.ProjectName, role));
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
