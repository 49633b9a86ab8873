using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
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
    private const string Sql = "DELETE FROM api_tokens WHERE id = @TokenId AND user_id = @UserId RETURNING project_id";

    internal static async Task<Results<NoContent, NotFound>> HandleAsync(
        PathId tokenId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Token, null, tokenId.Value, null, ct);
        var deleted = (await connection.QueryAsync<Guid?>(
            new CommandDefinition(Sql, new { TokenId = tokenId.Value, UserId = user.UserId() }, transaction, cancellationToken: ct))).ToArray();
        if (deleted.Length == 0)
        {
            return TypedResults.NotFound();
        }
        await AuditTrail.RecordAsync(connection, transaction, user, deleted[0], "token.revoked", AuditResources.Token, tokenId.Value, ct, before);
        await transaction.CommitAsync(ct);
        return TypedResults.NoContent();
    }
}
