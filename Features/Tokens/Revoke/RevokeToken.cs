using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Tokens.Revoke;

public static class RevokeToken
{
    public static RouteHandlerBuilder MapRevokeToken(this IEndpointRouteBuilder tokens) =>
        tokens.MapDelete("/{tokenId}", HandleAsync).WithName(nameof(RevokeToken));

    // Deleting the row is the revocation: every instance's ApiTokenCache re-reads a token within
    // ApiTokenCache.MaxAge and then finds nothing.
    private const string Sql = "DELETE FROM api_tokens WHERE id = @TokenId AND user_id = @UserId";

    internal static async Task<Results<NoContent, NotFound>> HandleAsync(
        PathId tokenId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var deleted = await connection.ExecuteAsync(
            new CommandDefinition(Sql, new { TokenId = tokenId.Value, UserId = user.UserId() }, cancellationToken: ct));
        return deleted == 0 ? TypedResults.NotFound() : TypedResults.NoContent();
    }
}
