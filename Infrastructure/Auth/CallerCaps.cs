using System.Security.Claims;

namespace FlagService.Infrastructure.Auth;

// What an API token may do beyond its owner's memberships: at most one role and, when set, one
// project. A JWT carries neither claim, so a person acts with their full memberships.
public static class CallerCaps
{
    public const string RoleClaim = "fst_role";
    public const string ProjectClaim = "fst_project";
    public const string TokenIdClaim = "fst_token";

    public static string? TokenRole(this ClaimsPrincipal user) => user.FindFirstValue(RoleClaim);

    public static Guid? TokenProject(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(ProjectClaim), out var id) ? id : null;

    public static Guid? TokenId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(TokenIdClaim), out var id) ? id : null;

    public static bool IsToken(this ClaimsPrincipal user) => user.FindFirst(TokenIdClaim) is not null;

    // Creating tokens and managing members are a person's acts: a leaked token must not be able to
    // mint more tokens or let someone in.
    public static TBuilder RequireJwt<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) => context.HttpContext.User.IsToken()
            ? TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Personal login required",
                detail: "This action needs a login (a JWT from /auth/login), not an API token.")
            : await next(context));
}
