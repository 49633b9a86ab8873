using System.Security.Claims;
using Dapper;
using FlagService.Features.Environments;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.Update;

public static class UpdateFlag
{
    // Omitted or null fields keep their value. `key` may be sent but must equal the current key.
    // name and description belong to the flag (every environment); enabled and rollout_percentage
    // to its state in the environment the request means.
    public sealed record UpdateFlagRequest(
        string? Name = null, string? Key = null, string? Description = null, bool? Enabled = null, int? RolloutPercentage = null);

    public static RouteHandlerBuilder MapUpdateFlag(this IEndpointRouteBuilder flags) =>
        flags.MapPut("/{flagId}", HandleAsync);

    // The key check is part of `target`, so a flag whose key differs is never written; the count
    // then tells a different key (400) from a missing flag (404), and the last statement reads the
    // result back (same batch, same transaction).
    private const string Sql = $"""
        WITH target AS (
            SELECT f.id AS flag_id, e.id AS environment_id
              FROM feature_flags f
              JOIN user_projects(@UserId) m ON m.project_id = f.project_id
              JOIN environments e ON e.project_id = f.project_id AND {EnvironmentScope.Matches}
             WHERE f.id = @FlagId AND f.project_id = @ProjectId AND (@Key IS NULL OR f.key = @Key)),
        definition AS (
            UPDATE feature_flags f
               SET name = COALESCE(@Name, f.name),
                   description = CASE WHEN @Description IS NULL THEN f.description ELSE NULLIF(@Description, '') END,
                   updated_at = now()
              FROM target t
             WHERE f.id = t.flag_id AND (@Name IS NOT NULL OR @Description IS NOT NULL)),
        state AS (
            UPDATE flag_environments s
               SET enabled = COALESCE(@Enabled, s.enabled),
                   rollout_percentage = COALESCE(@RolloutPercentage, s.rollout_percentage),
                   updated_at = now()
              FROM target t
             WHERE s.flag_id = t.flag_id AND s.environment_id = t.environment_id
               AND (@Enabled IS NOT NULL OR @RolloutPercentage IS NOT NULL))
        SELECT count(*) FROM target;
        {FlagsEndpoints.Select} AND f.id = @FlagId;
        """;

    internal static async Task<Results<Ok<FlagResponse>, NotFound, ValidationProblem>> HandleAsync(
        PathId projectId, EnvironmentRef env, PathId flagId, UpdateFlagRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        ProjectChanges changes, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (request is { Name: null, Description: null, Enabled: null, RolloutPercentage: null })
        {
            errors.Add("body", "must contain at least one of: name, description, enabled, rollout_percentage");
        }
        var name = errors.Text("name", request.Name, 1, ProjectInput.NameMax, required: false);
        var description = errors.Text("description", request.Description, 0, ProjectInput.DescriptionMax, required: false);
        FlagInput.Rollout(errors, request.RolloutPercentage);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(Sql, new
        {
            ProjectId = projectId.Value, FlagId = flagId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
            Name = name, request.Key, Description = description, request.Enabled, request.RolloutPercentage,
        }, cancellationToken: ct));
        var written = await results.ReadSingleAsync<long>() > 0;
        var flag = await results.ReadSingleOrDefaultAsync<FlagRow>();
        if (flag is null)
        {
            return TypedResults.NotFound();
        }
        if (!written)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["key"] = ["cannot be changed"] });
        }
        changes.Publish(projectId.Value);
        return TypedResults.Ok(flag.ToResponse());
    }
}
