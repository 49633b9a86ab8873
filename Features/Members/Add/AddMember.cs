using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Auth;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using FlagService.Infrastructure.Mail;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlagService.Features.Members.Add;

public static class AddMember
{
    public static readonly TimeSpan InvitationLifetime = TimeSpan.FromDays(7);

    public sealed record AddMemberRequest(string? Email, string? Role);

    // The same answer whether the e-mail has an account (a membership now) or not (an invitation,
    // e-mailed as a link that person accepts once signed in): the API does not tell who has an account.
    public sealed record AddMemberResponse(string Email, string Role);

    public static RouteHandlerBuilder MapAddMember(this IEndpointRouteBuilder members) =>
        members.MapPost("/", HandleAsync).WithName(nameof(AddMember));

    // Adding someone who already is a member changes nothing (their role stays; PUT changes it).
    // Inviting an address again replaces its link (the older one stops working) and its expiry.
    // The row comes back only when an invitation was recorded: then there is a mail to send.
    private const string Sql = $"""
        {MembersEndpoints.LockProject};
        WITH account AS (SELECT id FROM users WHERE lower(email) = lower(@Email)),
        member AS (
            INSERT INTO project_members (project_id, user_id, role)
            SELECT @ProjectId, id, @Role FROM account
            ON CONFLICT (project_id, user_id) DO NOTHING),
        invitation AS (
            INSERT INTO project_invitations (project_id, email, role, invited_by, token_hash, expires_at)
            SELECT @ProjectId, @Email, @Role, @UserId, @TokenHash, now() + make_interval(secs => @Seconds)
             WHERE NOT EXISTS (SELECT 1 FROM account)
            ON CONFLICT (project_id, email) DO UPDATE
               SET role = EXCLUDED.role, invited_by = EXCLUDED.invited_by, invited_at = now(), token_hash = EXCLUDED.token_hash,
                   expires_at = EXCLUDED.expires_at, accepted_at = NULL, accepted_by = NULL
            RETURNING project_id)
        SELECT p.name AS project_name, (SELECT u.email FROM users u WHERE u.id = @UserId) AS invited_by
          FROM invitation i JOIN projects p ON p.id = i.project_id;
        """;

    private sealed record Invited(string ProjectName, string InvitedBy);

    internal static async Task<Results<Created<AddMemberResponse>, ValidationProblem>> HandleAsync(
        ProjectScope scope, AddMemberRequest request, ClaimsPrincipal user, NpgsqlDataSource db, Mailer mailer, IOptions<AppOptions> app,
        CancellationToken ct)
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

        // 256 random bits, URL-safe, made whether or not it is needed (the two cases cost the same);
        // only its hash is stored.
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Member, scope.ProjectId, null, null, ct, email);
        Invited? invited;
        await using (var results = await connection.QueryMultipleAsync(new CommandDefinition(Sql, new
        {
            ProjectId = scope.ProjectId, Email = email, Role = role, UserId = user.UserId(),
            TokenHash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)), Seconds = InvitationLifetime.TotalSeconds,
        }, transaction, cancellationToken: ct)))
        {
            await results.ReadAsync<int>(); // the project's lock
            invited = await results.ReadSingleOrDefaultAsync<Invited>();
        }
        // No resource id: an invitation has no user yet, and the entry must not tell the two apart.
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "member.added", AuditResources.Member, null, ct,
            before, resourceKey: email);
        await transaction.CommitAsync(ct);

        if (invited is not null)
        {
            // Sent off the request path, like password-reset mail (Mailer).
            var link = $"{app.Value.PublicUrl.TrimEnd('/')}/invitations/accept?token={token}";
            var mail = new OutgoingMail(email!, $"You are invited to {invited.ProjectName} on FlagService",
                $"""
                {invited.InvitedBy} invited you to the FlagService project "{invited.ProjectName}" as {role}.
                To join, open this link within 7 days, and sign in (or create an account) with this e-mail address:

                {link}

                The link works once. If you did not expect this invitation, ignore this e-mail.
                """);
            mailer.Enqueue(_ => Task.FromResult<OutgoingMail?>(mail));
        }
        return TypedResults.Created($"/api/projects/{scope.ProjectId}/members", new AddMemberResponse(email!, role!));
    }
}
