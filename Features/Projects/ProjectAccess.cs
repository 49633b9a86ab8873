using System.Reflection;
using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Npgsql;

namespace FlagService.Features.Projects;

public static class ProjectRoles
{
    public const string Owner = "owner";
    public const string Editor = "editor";
    public const string Viewer = "viewer";

    public static readonly string[] All = [Owner, Editor, Viewer];

    // The roles that include `role`: an owner may do what an editor may, an editor what a viewer may.
    public static string[] AtLeast(string role) => role switch
    {
        Owner => [Owner],
        Editor => [Owner, Editor],
        _ => All,
    };

    public static bool Allows(string actual, string needed) => AtLeast(needed).Contains(actual);
}

// The environment a request means (EnvironmentRef: the route's {env}, ?environment=, or the
// project's default), as the database found it in the caller's project.
public sealed record ScopedEnvironment(Guid Id, string Key, bool IsDefault);

// The one access check. Every management route of a project takes this as a parameter: it is
// resolved once per request, in one statement, from the caller's membership, their token's role
// and project caps and the environment the request names; then RequireProjectRole's filter answers
// 404 (not a member, a token capped to another project, an unknown environment) or 403 (a role too
// low) before the handler runs. So handlers write plain SQL on @ProjectId and @EnvironmentId and
// never repeat the membership join, and a route that takes a scope without stating the role it
// needs fails at its first request (and in ProjectRoutesTests, which walks the OpenAPI document).
public sealed class ProjectScope
{
    internal const string Item = "flagservice.project_scope";

    private readonly ScopedEnvironment? _environment;

    private ProjectScope(Guid projectId, string? role, ScopedEnvironment? environment, AuditActor actor)
    {
        ProjectId = projectId;
        Role = role;
        _environment = environment;
        Actor = actor;
    }

    public Guid ProjectId { get; }

    // The effective role: the lower of the membership's and the token's; null for a non-member.
    public string? Role { get; }

    public AuditActor Actor { get; }

    // Never null in a handler: the filter answers 404 for an environment the project does not have.
    public ScopedEnvironment Environment => _environment ?? throw new InvalidOperationException("The environment was not resolved.");

    public Guid EnvironmentId => Environment.Id;

    private bool Found => Role is not null && _environment is not null;

    // The effective role is the lower of the membership's and the token's (a token never raises
    // what its owner may do); the environment is looked up in the same statement.
    private const string Sql = """
        SELECT eff.role, e.id AS environment_id, e.key AS environment_key, e.is_default
          FROM user_projects(@UserId) m
         CROSS JOIN LATERAL (SELECT CASE WHEN array_position(ARRAY['viewer','editor','owner'], m.role)
                                              <= array_position(ARRAY['viewer','editor','owner'], COALESCE(@TokenRole, 'owner'))
                                         THEN m.role ELSE @TokenRole END AS role) eff
          LEFT JOIN environments e ON e.project_id = m.project_id
                                  AND (e.id = @EnvId OR e.key = @EnvKey
                                       OR (CAST(@EnvId AS uuid) IS NULL AND CAST(@EnvKey AS text) IS NULL AND e.is_default))
         WHERE m.project_id = @ProjectId AND (CAST(@ProjectCap AS uuid) IS NULL OR m.project_id = @ProjectCap)
        """;

    private sealed record Row(string Role, Guid? EnvironmentId, string? EnvironmentKey, bool? IsDefault);

    public static async ValueTask<ProjectScope?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        ArgumentNullException.ThrowIfNull(context);
        return await ResolveAsync(context);
    }

    // Resolved at most once per request: the binder and the filter share the result.
    private static async ValueTask<ProjectScope> ResolveAsync(HttpContext http)
    {
        if (http.Items[Item] is ProjectScope resolved)
        {
            return resolved;
        }
        var endpoint = http.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<RequiredProjectRole>() is null)
        {
            throw new InvalidOperationException($"{http.GetEndpoint()?.DisplayName} takes a ProjectScope but states no RequireProjectRole.");
        }
        if (!Guid.TryParse(http.Request.RouteValues["projectId"] as string, out var projectId))
        {
            throw new InvalidRouteValueException("projectId", "must be a UUID");
        }
        var env = EnvironmentRef.Parse(http.Request.RouteValues[EnvironmentRef.RouteName] as string
            ?? (endpoint.Metadata.GetMetadata<EnvironmentQueryIsFilter>() is null ? http.Request.Query[EnvironmentRef.QueryName].ToString() : null));
        var user = http.User;
        var db = http.RequestServices.GetRequiredService<NpgsqlDataSource>();
        await using var connection = await db.OpenConnectionAsync(http.RequestAborted);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(Sql, new
        {
            UserId = user.UserId(), ProjectId = projectId, TokenRole = user.TokenRole(), ProjectCap = user.TokenProject(),
            EnvId = env.Id, EnvKey = env.Key,
        }, cancellationToken: http.RequestAborted));
        var scope = new ProjectScope(projectId, row?.Role,
            row?.EnvironmentId is { } id ? new ScopedEnvironment(id, row.EnvironmentKey!, row.IsDefault!.Value) : null,
            AuditActor.Of(user));
        http.Items[Item] = scope;
        return scope;
    }

    internal static async ValueTask<object?> CheckAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, string role)
    {
        var http = context.HttpContext;
        if (!Guid.TryParse(http.Request.RouteValues["projectId"] as string, out _))
        {
            return await next(context); // the handler's binder answers 400 naming the id
        }
        var scope = await ResolveAsync(http);
        if (!scope.Found)
        {
            return TypedResults.NotFound();
        }
        if (!ProjectRoles.Allows(scope.Role!, role))
        {
            return Forbidden(role, scope.Role!);
        }
        return await next(context);
    }

    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Forbidden(string needed, string actual) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "Role required",
        detail: $"This action needs the {needed} role in this project; you are {(actual == ProjectRoles.Owner ? "an" : "a")} {actual}.",
        extensions: new Dictionary<string, object?> { ["required_role"] = needed, ["role"] = actual });
}

// The role a route needs, as endpoint metadata: the filter enforces it, and the OpenAPI document
// states it (x-required-role), where ProjectRoutesTests reads it.
public sealed record RequiredProjectRole(string Role);

// On a route whose ?environment= filters what it lists by a recorded name (the audit log, whose
// entries outlive their environment) instead of naming the environment the request works in: the
// scope then means the default environment, and a deleted environment's name is not a 404.
public sealed record EnvironmentQueryIsFilter;

public static class ProjectAccess
{
    // Every route of a project states the least role it needs; the filter checks it before the handler.
    public static TBuilder RequireProjectRole<TBuilder>(this TBuilder builder, string role) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredProjectRole(role))
            .AddEndpointFilter((context, next) => ProjectScope.CheckAsync(context, next, role));

    public static TBuilder WithEnvironmentQueryAsFilter<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new EnvironmentQueryIsFilter());
}
