using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Tokens.Create;

public static class CreateToken
{
    public sealed record CreateTokenRequest(string? Name, string? Role = null, Guid? ProjectId = null, DateTimeOffset? ExpiresAt = null);

    public sealed record CreatedTokenResponse(
        Guid Id, string Name, string Token, string Prefix, string Role, Guid? ProjectId, DateTime? ExpiresAt, DateTime CreatedAt);

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static RouteHandlerBuilder MapCreateToken(this IEndpointRouteBuilder tokens) =>
        tokens.MapPost("/", HandleAsync).WithName(nameof(CreateToken));

    // A token capped to a project needs the caller to be a member of it (else no row: 400).
    private const string Sql = """
        INSERT INTO api_tokens (user_id, name, prefix, token_hash, role, project_id, expires_at)
        SELECT @UserId, @Name, @Prefix, @Hash, @Role, @ProjectId, @ExpiresAt
         WHERE CAST(@ProjectId AS uuid) IS NULL OR EXISTS (SELECT 1 FROM user_projects(@UserId) m WHERE m.project_id = @ProjectId)
        RETURNING id, name, prefix, role, project_id, expires_at, created_at
        """;

    private sealed record Row(Guid Id, string Name, string Prefix, string Role, Guid? ProjectId, DateTime? ExpiresAt, DateTime CreatedAt);

    internal static async Task<Results<Created<CreatedTokenResponse>, ValidationProblem>> HandleAsync(
        CreateTokenRequest request, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider time, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var name = errors.Text("name", request.Name, 1, ProjectInput.NameMax, required: true);
        var role = request.Role ?? ProjectRoles.Editor;
        if (!ProjectRoles.All.Contains(role))
        {
            errors.Add("role", "must be one of: owner, editor, viewer");
        }
        if (request.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            errors.Add("expires_at", "must be in the future");
        }
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        // 40 characters of a 62-letter alphabet from the OS's cryptographic RNG: ~238 bits.
        var token = ApiTokenHandler.Prefix + RandomNumberGenerator.GetString(Alphabet, 40);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(Sql, new
        {
            UserId = user.UserId(), Name = name, Prefix = token[..8], Hash = ApiTokenCache.Hash(token), Role = role,
            request.ProjectId, ExpiresAt = request.ExpiresAt?.UtcDateTime,
        }, transaction, cancellationToken: ct));
        if (row is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["project_id"] = ["names no project you are a member of"] });
        }
        // In the token's project's log when it has one; the secret is in neither snapshot.
        await AuditTrail.RecordAsync(connection, transaction, user, row.ProjectId, "token.created", AuditResources.Token, row.Id, ct);
        await transaction.CommitAsync(ct);
        return TypedResults.Created($"/api/tokens/{row.Id}",
            new CreatedTokenResponse(row.Id, row.Name, token, row.Prefix, row.Role, row.ProjectId, row.ExpiresAt, row.CreatedAt));
    }
}
