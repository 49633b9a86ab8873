using FlagService.Features.Auth.ForgotPassword;
using FlagService.Features.Auth.Login;
using FlagService.Features.Auth.Me;
using FlagService.Features.Auth.Register;
using FlagService.Features.Auth.ResetPassword;
using FlagService.Infrastructure.Http;

namespace FlagService.Features.Auth;

public static class AuthEndpoints
{
    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/auth").WithTags("Auth")
            .AllowAnonymous()
            .RequireRateLimiting(RateLimitOptions.AuthPolicy)
            .RequireCors(CorsSettings.ManagementPolicy);
        auth.MapRegister();
        auth.MapLogin();
        auth.MapForgotPassword();
        auth.MapResetPassword();

        app.MapGroup("/api").WithTags("Auth").RequireAuthorization().RequireCors(CorsSettings.ManagementPolicy)
            .MapMe();
        return app;
    }
}
