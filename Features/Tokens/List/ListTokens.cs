using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Tokens.List;

public static class ListTokens
{
    public static RouteHandlerBuilder MapListTokens(this IEndpointRouteBuilder tokens) =>
        tokens.MapGet("/", HandleAsync).WithName(nameof(ListTokens));

    private const string Sql = $"""
        SELECT {TokensEndpoints.Columns} FROM api_tokens t WHERE t.user_id = @UserId ORDER BY t.created_at DESC, t.id
        """;

    internal static async Task<Ok<TokenResponse[]>> HandleAsync(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var tokens = await connection.QueryAsync<TokenResponse>(new CommandDefinition(Sql, new { UserId = user.UserId() }, cancellationToken: ct));
        return TypedResults.Ok(tokens.ToArray());
    }
}
