using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
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
}

// Who may do what in a project, checked before every management handler of {projectId}: a
// non-member (or a token capped to another project) gets 404, as if the project did not exist; a
// member whose role is too low gets 403 naming the role needed. The handlers' own statements still
// join user_projects, so a membership removed in between is a 404 there too.
public static class ProjectAccess
{
    public const string RoleItem = "flagservice.project_role";

    // The effective role is the lower of the membership's and the token's (a token never raises
    // what its owner may do); both comparisons happen here, in SQL, on the one membership row.
    private const string Sql = """
        SELECT eff.role, eff.role = ANY(@Roles) AS allowed
          FROM user_projects(@UserId) m,
               LATERAL (SELECT CASE WHEN array_position(ARRAY['viewer','editor','owner'], m.role)
                                         <= array_position(ARRAY['viewer','editor','owner'], COALESCE(@TokenRole, 'owner'))
                                    THEN m.role ELSE @TokenRole END AS role) eff
         WHERE m.project_id = @ProjectId AND (CAST(@ProjectCap AS uuid) IS NULL OR m.project_id = @ProjectCap)
        """;

    private sealed record Access(string Role, bool Allowed);

    public static TBuilder RequireProjectRole<TBuilder>(this TBuilder builder, string role) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!Guid.TryParse(http.Request.RouteValues["projectId"] as string, out var projectId))
            {
                return await next(context); // the handler's binder answers 400 naming the id
            }
            var user = http.User;
            var db = http.RequestServices.GetRequiredService<NpgsqlDataSource>();
            await using var connection = await db.OpenConnectionAsync(http.RequestAborted);
            var access = await connection.QuerySingleOrDefaultAsync<Access>(new CommandDefinition(Sql, new
            {
                UserId = user.UserId(), ProjectId = projectId, Roles = ProjectRoles.AtLeast(role),
                TokenRole = user.TokenRole(), ProjectCap = user.TokenProject(),
            }, cancellationToken: http.RequestAborted));
            if (access is null)
            {
                return TypedResults.NotFound();
            }
            if (!access.Allowed)
            {
                return Forbidden(role, access.Role);
            }
            http.Items[RoleItem] = access.Role;
            return await next(context);
        });

    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Forbidden(string needed, string actual) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "Role required",
        detail: $"This action needs the {needed} role in this project; you are {(actual == ProjectRoles.Owner ? "an" : "a")} {actual}.",
        extensions: new Dictionary<string, object?> { ["required_role"] = needed, ["role"] = actual });

    // The caller's effective role in the project of the request, as the filter found it.
    public static string? ProjectRole(this HttpContext http) => http.Items[RoleItem] as string;
}
