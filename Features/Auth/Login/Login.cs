using Dapper;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Auth.Login;

public static class Login
{
    public sealed record LoginRequest(string? Email, string? Password);
    public sealed record LoginResponse(string Token, DateTime ExpiresAt);
    private sealed record Account(Guid Id, string PasswordHash);

    public static RouteHandlerBuilder MapLogin(this IEndpointRouteBuilder auth) =>
        auth.MapPost("/login", HandleAsync).WithName(nameof(Login));

    private const string Sql = "SELECT id, password_hash FROM users WHERE lower(email) = lower(@Email)";

    // Every failure gets the same body, and an unknown email still pays for a hash verification,
    // so that neither the answer nor its timing tells whether an account exists.
    internal static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> HandleAsync(
        LoginRequest request, NpgsqlDataSource db, PasswordHasher hasher, TokenIssuer tokens, CancellationToken ct)
    {
        var email = request.Email?.Trim() ?? "";
        var password = request.Password ?? "";

        Account? account = null;
        if (email.Length is > 0 and <= 254)
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            account = await connection.QuerySingleOrDefaultAsync<Account>(
                new CommandDefinition(Sql, new { Email = email }, cancellationToken: ct));
        }

        if (!hasher.Verify(account?.PasswordHash, password) || account is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Invalid credentials",
                detail: "The email or password is incorrect.");
        }

        var (token, expiresAt) = tokens.Issue(account.Id);
        return TypedResults.Ok(new LoginResponse(token, expiresAt));
    }
}
