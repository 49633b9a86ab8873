using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Auth.Me;

public static class Me
{
    public sealed record MeResponse(Guid Id, string Email, DateTime CreatedAt);

    public static RouteHandlerBuilder MapMe(this IEndpointRouteBuilder api) =>
        api.MapGet("/me", HandleAsync).WithName(nameof(Me));

    private const string Sql = "SELECT id, email, created_at FROM users WHERE id = @UserId";

    internal static async Task<Results<Ok<MeResponse>, UnauthorizedHttpResult>> HandleAsync(
        ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var me = await connection.QuerySingleOrDefaultAsync<MeResponse>(
            new CommandDefinition(Sql, new { UserId = user.UserId() }, cancellationToken: ct));
        // A valid token for an account that no longer exists is no credential.
        return me is null ? TypedResults.Unauthorized() : TypedResults.Ok(me);
    }
}
