using System.Security.Claims;
using Dapper;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.Create;

public static class CreateFlag
{
    public sealed record CreateFlagRequest(
        string? Name, string? Key, string? Description = null, bool? Enabled = null, int? RolloutPercentage = null);

    public static RouteHandlerBuilder MapCreateFlag(this IEndpointRouteBuilder flags) =>
        flags.MapPost("/", HandleAsync).WithName(nameof(CreateFlag));

    // Inserts only when the caller owns the project; the unique (project_id, key) constraint settles
    // concurrent creates of one key.
    private const string Sql = """
        INSERT INTO feature_flags (project_id, name, key, description, enabled, rollout_percentage)
        SELECT p.id, @Name, @Key, @Description, @Enabled, @RolloutPercentage
          FROM projects p WHERE p.id = @ProjectId AND p.created_by = @UserId
        RETURNING id, project_id, name, key, description, enabled, rollout_percentage, created_at, updated_at
        """;

    internal static async Task<Results<Created<FlagResponse>, NotFound, ValidationProblem, ProblemHttpResult>> HandleAsync(
        Guid projectId, CreateFlagRequest request, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes,
        CancellationToken ct)
    {
        var errors = new FieldErrors();
        var name = errors.Text("name", request.Name, 1, ProjectInput.NameMax, required: true);
        FlagInput.Key(errors, request.Key);
        var description = errors.Text("description", request.Description, 0, ProjectInput.DescriptionMax, required: false);
        FlagInput.Rollout(errors, request.RolloutPercentage);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var flag = await connection.QuerySingleOrDefaultAsync<FlagResponse>(new CommandDefinition(Sql, new
            {
                ProjectId = projectId,
                UserId = user.UserId(),
                Name = name,
                request.Key,
                Description = string.IsNullOrEmpty(description) ? null : description,
                Enabled = request.Enabled ?? false,
                RolloutPercentage = request.RolloutPercentage ?? 0,
            }, cancellationToken: ct));
            if (flag is null)
            {
                return TypedResults.NotFound();
            }
            changes.Publish(projectId);
            return TypedResults.Created($"/api/projects/{projectId}/flags/{flag.Id}", flag);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Flag key already exists",
                detail: $"The project already has a flag with the key '{request.Key}'.",
                extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["key"] = ["is already used in this project"] } });
        }
    }
}
