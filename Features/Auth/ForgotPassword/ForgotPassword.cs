using System.Security.Cryptography;
using Dapper;
using FlagService.Infrastructure.Mail;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlagService.Features.Auth.ForgotPassword;

public static class ForgotPassword
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);

    public sealed record ForgotPasswordRequest(string? Email);
    public sealed record ForgotPasswordResponse(string Status);

    // One answer for every e-mail, known or not, valid or not: the endpoint tells nobody who has an account.
    private static readonly ForgotPasswordResponse Accepted =
        new("If an account exists for this e-mail, a reset link has been sent to it.");

    public static RouteHandlerBuilder MapForgotPassword(this IEndpointRouteBuilder auth) =>
        auth.MapPost("/forgot-password", Handle).WithName(nameof(ForgotPassword));

    private const string Sql = """
        INSERT INTO password_resets (token_hash, user_id, expires_at)
        SELECT @Hash, u.id, now() + make_interval(secs => @Seconds) FROM users u WHERE lower(u.email) = lower(@Email)
        RETURNING (SELECT u.email FROM users u WHERE u.id = password_resets.user_id)
        """;

    // The lookup, the token and the mail all happen in the background (Mailer), so the answer
    // comes back in the same time whether or not the account exists.
    internal static Accepted<ForgotPasswordResponse> Handle(
        ForgotPasswordRequest request, NpgsqlDataSource db, Mailer mailer, IOptions<AppOptions> app)
    {
        var email = request.Email?.Trim();
        if (!string.IsNullOrEmpty(email) && EmailAddress.LooksValid(email))
        {
            var publicUrl = app.Value.PublicUrl.TrimEnd('/');
            mailer.Enqueue(async ct =>
            {
                // 256 random bits, URL-safe; only its hash is stored.
                var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
                await using var connection = await db.OpenConnectionAsync(ct);
                var to = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(Sql, new
                {
                    Hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)), Email = email, Seconds = Lifetime.TotalSeconds,
                }, cancellationToken: ct));
                return to is null ? null : new OutgoingMail(to, "Reset your FlagService password",
                    $"""
                    Someone asked to reset the password of your FlagService account.
                    To choose a new password, open this link within 30 minutes:

                    {publicUrl}/reset-password?token={token}

                    If it was not you, ignore this e-mail: your password stays as it is.
                    """);
            });
        }
        return TypedResults.Accepted((string?)null, Accepted);
    }
}
