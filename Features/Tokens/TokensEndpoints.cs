using FlagService.Features.Tokens.Create;
using FlagService.Features.Tokens.List;
using FlagService.Features.Tokens.Revoke;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Tokens;

// No secret here: the token itself is only in CreateToken's answer.
public sealed record TokenResponse(
    Guid Id, string Name, string Prefix, string Role, Guid? ProjectId, DateTime? ExpiresAt, DateTime CreatedAt, DateTime? LastUsedAt);

public static class TokensEndpoints
{
    public const string Columns = "t.id, t.name, t.prefix, t.role, t.project_id, t.expires_at, t.created_at, t.last_used_at";

    public static IEndpointRouteBuilder MapTokens(this IEndpointRouteBuilder app)
    {
        // Managing tokens is a person's act (a login), like managing members: a leaked token,
        // however capped, must not list its owner's other tokens, revoke them or mint new ones.
        var tokens = app.MapGroup("/api/tokens").WithTags("API tokens")
            .RequireAuthorization()
            .RequireJwt()
            .RequireCors(CorsSettings.ManagementPolicy);
        tokens.MapCreateToken();
        tokens.MapListTokens();
        tokens.MapRevokeToken();
        return app;
    }
}
