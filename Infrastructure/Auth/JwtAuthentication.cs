using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FlagService.Infrastructure.Auth;

public static class JwtAuthentication
{
    private const string Bearer = "BearerOrApiToken";

    public static WebApplicationBuilder AddJwtAuthentication(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<JwtOptions>()
            .BindConfiguration(JwtOptions.SectionName)
            .ValidateDataAnnotations();
        builder.Services.AddOptionsWithValidateOnStart<PasswordHashingOptions>()
            .BindConfiguration(PasswordHashingOptions.SectionName)
            .ValidateDataAnnotations();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddSingleton<PasswordHasher>();

        // One default scheme that forwards by the header's shape: API tokens start with fst_, and
        // anything else is treated as a JWT.
        builder.Services.AddSingleton<SessionValidity>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SessionValidity>());
        builder.Services.AddSingleton<ApiTokenCache>();
        builder.Services.AddHostedService<ApiTokenUsageFlusher>();
        builder.Services.AddAuthentication(Bearer)
            .AddPolicyScheme(Bearer, Bearer, o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer " + ApiTokenHandler.Prefix, StringComparison.Ordinal)
                    ? ApiTokenHandler.SchemeName : JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(ApiTokenHandler.SchemeName, null);
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>>((bearer, jwt) =>
            {
                bearer.MapInboundClaims = false;
                bearer.TokenValidationParameters = TokenIssuer.ValidationParameters(jwt.Value);
                // A password reset revokes the JWTs issued before it; checked in memory.
                bearer.Events = new JwtBearerEvents
                {
                    OnTokenValidated = context =>
                    {
                        var sessions = context.HttpContext.RequestServices.GetRequiredService<SessionValidity>();
                        if (context.Principal is { } principal && sessions.IsRevoked(principal.UserId(), TokenIssuer.IssuedAt(principal)))
                        {
                            context.Fail("The token was issued before the password was reset.");
                        }
                        return Task.CompletedTask;
                    },
                };
            });
        builder.Services.AddAuthorization();
        return builder;
    }

    // The management API's; SDK and OFREP calls carry an SDK key, never a session, and take their
    // own pipeline before this one (SdkPipeline), so the JWT handler never runs for them.
    public static WebApplication UseAccessControl(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(JwtRegisteredClaimNames.Sub)
                   ?? throw new InvalidOperationException("An authenticated user always has a sub claim."));
}

public sealed class TokenIssuer(IOptions<JwtOptions> options, TimeProvider time)
{
    private readonly JwtOptions _jwt = options.Value;
    private readonly JsonWebTokenHandler _handler = new();

    public (string Token, DateTime ExpiresAt) Issue(Guid userId)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var expires = now.AddHours(_jwt.LifetimeHours);
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _jwt.Issuer,
            Audience = _jwt.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = expires,
            // iat has whole seconds; a reset and a new login may share one, so the milliseconds too.
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = userId.ToString(),
                [SessionValidity.IssuedAtMsClaim] = new DateTimeOffset(now).ToUnixTimeMilliseconds(),
            },
            SigningCredentials = new SigningCredentials(Key(_jwt), SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }

    public static DateTime IssuedAt(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue(SessionValidity.IssuedAtMsClaim), out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime
            : long.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Iat), out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime
                : DateTime.MinValue;

    // Only HS256 with our key is accepted: this rejects "alg: none" and algorithm-confusion tokens.
    public static TokenValidationParameters ValidationParameters(JwtOptions jwt) => new()
    {
        ValidIssuer = jwt.Issuer,
        ValidAudience = jwt.Audience,
        IssuerSigningKey = Key(jwt),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    private static SymmetricSecurityKey Key(JwtOptions jwt) => new(Encoding.UTF8.GetBytes(jwt.Secret));
}
