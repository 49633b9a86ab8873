using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Npgsql;

namespace FlagService.Infrastructure.Auth;

// `Authorization: Bearer fst_...`: an API token, acting as its owner capped at its role and
// optionally one project (CallerCaps). The JWT handler never sees these.
public sealed class ApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokenCache tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";
    public const string Prefix = "fst_";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer " + Prefix, StringComparison.Ordinal))
        {
            return AuthenticateResult.NoResult();
        }
        var token = await tokens.FindAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (token is null || token.ExpiresAt <= DateTime.UtcNow)
        {
            return AuthenticateResult.Fail("The API token is unknown, revoked or expired.");
        }
        tokens.Used(token.Id);
        List<Claim> claims =
        [
            new(JwtRegisteredClaimNames.Sub, token.UserId.ToString()),
            new(CallerCaps.TokenIdClaim, token.Id.ToString()),
            new(CallerCaps.RoleClaim, token.Role),
        ];
        if (token.ProjectId is { } project)
        {
            claims.Add(new(CallerCaps.ProjectClaim, project.ToString()));
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }
}

public sealed record ApiTokenEntry(Guid Id, Guid UserId, string Role, Guid? ProjectId, DateTime? ExpiresAt);

// Tokens by hash, each entry trusted for at most MaxAge: a revoked token stops working on every
// instance within that time without a query per request (one per token and MaxAge at most).
// Uses are collected here and written in batches by ApiTokenUsageFlusher.
public sealed class ApiTokenCache(NpgsqlDataSource db, TimeProvider time)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(500);

    private const string Sql = """
        SELECT id, user_id, role, project_id, expires_at FROM api_tokens WHERE token_hash = @Hash
        """;

    private readonly ConcurrentDictionary<string, (ApiTokenEntry? Entry, DateTimeOffset FetchedAt)> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, DateTime> _uses = new();

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public async Task<ApiTokenEntry?> FindAsync(string token, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var key = Convert.ToBase64String(Hash(token));
        if (_entries.TryGetValue(key, out var cached) && now - cached.FetchedAt < MaxAge)
        {
            return cached.Entry;
        }
        await using var connection = await db.OpenConnectionAsync(ct);
        var entry = await connection.QuerySingleOrDefaultAsync<ApiTokenEntry>(
            new CommandDefinition(Sql, new { Hash = Convert.FromBase64String(key) }, cancellationToken: ct));
        // Unknown tokens are not cached: a flood of random ones must not grow the dictionary.
        if (entry is null)
        {
            _entries.TryRemove(key, out _);
            return null;
        }
        _entries[key] = (entry, now);
        return entry;
    }

    public void Used(Guid id) => _uses[id] = time.GetUtcNow().UtcDateTime;

    public Dictionary<Guid, DateTime> TakeUses()
    {
        var taken = new Dictionary<Guid, DateTime>();
        foreach (var id in _uses.Keys)
        {
            if (_uses.TryRemove(id, out var at))
            {
                taken[id] = at;
            }
        }
        return taken;
    }
}

// last_used_at without a write per request: one UPDATE for all tokens used in the last interval.
public sealed partial class ApiTokenUsageFlusher(ApiTokenCache tokens, NpgsqlDataSource db, ILogger<ApiTokenUsageFlusher> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private const string Sql = """
        UPDATE api_tokens t SET last_used_at = GREATEST(t.last_used_at, u.at)
          FROM unnest(CAST(@Ids AS uuid[]), CAST(@Ats AS timestamptz[])) AS u(id, at)
         WHERE t.id = u.id
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await FlushAsync(stoppingToken);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(CancellationToken.None);
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        var uses = tokens.TakeUses();
        if (uses.Count == 0)
        {
            return;
        }
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition(Sql,
                new { Ids = uses.Keys.ToArray(), Ats = uses.Values.ToArray() }, cancellationToken: ct));
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
        {
            LogFlushFailed(logger, e, uses.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the last use of {Count} API tokens")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, int count);
}
