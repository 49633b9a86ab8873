using System.Security.Claims;
using Dapper;
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
    public sealed record UpdateFlagRequest(
        string? Name = null, string? Key = null, string? Description = null, bool? Enabled = null, int? RolloutPercentage = null);

    public static RouteHandlerBuilder MapUpdateFlag(this IEndpointRouteBuilder flags) =>
        flags.MapPut("/{flagId}", HandleAsync).WithName(nameof(UpdateFlag));

    // The key check is part of the WHERE clause, so a flag whose key differs is never written;
    // KeySql then tells a different key (400) from a missing flag (404).
    private const string Sql = $"""
        UPDATE feature_flags f
           SET name = COALESCE(@Name, f.name),
               description = CASE WHEN @Description IS NULL THEN f.description ELSE NULLIF(@Description, '') END,
               enabled = COALESCE(@Enabled, f.enabled),
               rollout_percentage = COALESCE(@RolloutPercentage, f.rollout_percentage),
               updated_at = now()
          FROM projects p
         WHERE f.id = @FlagId AND {FlagsEndpoints.OwnedBy} AND (@Key IS NULL OR f.key = @Key)
        RETURNING {FlagsEndpoints.Columns}
        """;

    private const string KeySql = $"""
        SELECT f.key FROM feature_flags f JOIN projects p ON p.id = f.project_id
         WHERE f.id = @FlagId AND {FlagsEndpoints.OwnedBy}
        """;

    internal static async Task<Results<Ok<FlagResponse>, NotFound, ValidationProblem>> HandleAsync(
        Guid projectId, Guid flagId, UpdateFlagRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
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

        var args = new
        {
            ProjectId = projectId, FlagId = flagId, UserId = user.UserId(), Name = name, request.Key,
            Description = description, request.Enabled, request.RolloutPercentage,
        };
        await using var connection = await db.OpenConnectionAsync(ct);
        var flag = await connection.QuerySingleOrDefaultAsync<FlagResponse>(new CommandDefinition(Sql, args, cancellationToken: ct));
        if (flag is not null)
        {
            changes.Publish(projectId);
            return TypedResults.Ok(flag);
        }

        var currentKey = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(KeySql, args, cancellationToken: ct));
        return currentKey is null
            ? TypedResults.NotFound()
            : TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["key"] = ["cannot be changed"] });
    }
}
