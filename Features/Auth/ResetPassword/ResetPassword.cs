using System.Security.Cryptography;
using Dapper;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Auth.ResetPassword;

public static class ResetPassword
{
    public sealed record ResetPasswordRequest(string? Token, string? Password);
    public sealed record ResetPasswordResponse(string Status);

    public static RouteHandlerBuilder MapResetPassword(this IEndpointRouteBuilder auth) =>
        auth.MapPost("/reset-password", HandleAsync).WithName(nameof(ResetPassword));

    // One statement spends the token and changes the password: of two concurrent uses, the second
    // waits on the row lock, then finds used_at set and changes nothing. tokens_valid_after ends
    // every JWT issued before now (the app's clock, which also stamps the JWTs).
    private const string Sql = """
        WITH spent AS (
            UPDATE password_resets SET used_at = now()
             WHERE token_hash = @Hash AND used_at IS NULL AND expires_at > now()
            RETURNING user_id)
        UPDATE users u SET password_hash = @PasswordHash, tokens_valid_after = @Now
          FROM spent WHERE u.id = spent.user_id
        RETURNING u.id
        """;

    internal static async Task<Results<Ok<ResetPasswordResponse>, ValidationProblem>> HandleAsync(
        ResetPasswordRequest request, NpgsqlDataSource db, PasswordHasher hasher, SessionValidity sessions, TimeProvider time,
        CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrEmpty(request.Token))
        {
            errors.Add("token", "is required");
        }
        if (request.Password is null)
        {
            errors.Add("password", "is required");
        }
        else if (TextLength.Of(request.Password) is < 8 or > 1024)
        {
            errors.Add("password", "must be 8 to 1024 characters");
        }
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await db.OpenConnectionAsync(ct);
        var userId = await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(Sql, new
        {
            Hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(request.Token!)), PasswordHash = hasher.Hash(request.Password!), Now = now,
        }, cancellationToken: ct));
        if (userId is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["token"] = ["is invalid, expired or already used"] });
        }
        sessions.Set(userId.Value, now);
        return TypedResults.Ok(new ResetPasswordResponse("Your password has been changed. Log in with the new one."));
    }
}
