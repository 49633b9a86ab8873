using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Projects.Create;

public static class CreateProject
{
    public sealed record CreateProjectRequest(string? Name, string? Description = null);

    public static RouteHandlerBuilder MapCreateProject(this IEndpointRouteBuilder projects) =>
        projects.MapPost("/", HandleAsync).WithName(nameof(CreateProject));

    private const string Sql = $"""
        INSERT INTO projects (name, description, sdk_key, created_by)
        VALUES (@Name, @Description, @SdkKey, @UserId)
        RETURNING {ProjectsEndpoints.Columns}
        """;

    internal static async Task<Results<Created<ProjectResponse>, ValidationProblem>> HandleAsync(
        CreateProjectRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var (name, description) = ProjectInput.Validate(errors, request.Name, request.Description, nameRequired: true);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var project = await connection.QuerySingleAsync<ProjectResponse>(new CommandDefinition(Sql,
            new { Name = name, Description = description, SdkKey = SdkKey.New(), UserId = user.UserId() },
            cancellationToken: ct));
        return TypedResults.Created($"/api/projects/{project.Id}", project);
    }
}
