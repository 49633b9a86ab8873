using System.Security.Claims;
using Dapper;
using FlagService.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using FlagService.Features.Evaluation;
using Npgsql;

namespace FlagService.Features.Projects.RegenerateKey;

public static class RegenerateKey
{
    public static RouteHandlerBuilder MapRegenerateKey(this IEndpointRouteBuilder projects) =>
        projects.MapPost("/{projectId}/regenerate-key", HandleAsync).WithName(nameof(RegenerateKey));

    private const string Sql = $"""
        UPDATE projects SET sdk_key = @SdkKey, updated_at = now()
         WHERE id = @ProjectId AND created_by = @UserId
        RETURNING {ProjectsEndpoints.Columns}
        """;

    internal static async Task<Results<Ok<ProjectResponse>, NotFound>> HandleAsync(
        Guid projectId, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var project = await connection.QuerySingleOrDefaultAsync<ProjectResponse>(new CommandDefinition(Sql,
            new { ProjectId = projectId, UserId = user.UserId(), SdkKey = SdkKey.New() }, cancellationToken: ct));
        if (project is null)
        {
            return TypedResults.NotFound();
        }
        // The old key must stop working at once: snapshots are found by key.
        changes.Publish(projectId);
        return TypedResults.Ok(project);
    }
}
