using System.Security.Claims;
using Dapper;
using FlagService.Features.Environments;
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
        flags.MapPost("/", HandleAsync);

    // The flag and its state in every environment: the body's in the environment the request
    // means, disabled at 0 % in the others. The unique (project_id, key) constraint settles
    // concurrent creates of one key.
    private const string Sql = $"""
        WITH target AS (
            SELECT e.id FROM environments e WHERE e.project_id = @ProjectId AND {EnvironmentScope.Matches}),
        flag AS (
            INSERT INTO feature_flags (project_id, name, key, description)
            SELECT @ProjectId, @Name, @Key, @Description FROM target
            RETURNING id, project_id),
        states AS (
            INSERT INTO flag_environments (project_id, flag_id, environment_id, enabled, rollout_percentage)
            SELECT flag.project_id, flag.id, e.id,
                   e.id = target.id AND @Enabled, CASE WHEN e.id = target.id THEN @RolloutPercentage ELSE 0 END
              FROM flag, target, environments e
             WHERE e.project_id = flag.project_id)
        SELECT id FROM flag
        """;

    internal static async Task<Results<Created<FlagResponse>, NotFound, ValidationProblem, ProblemHttpResult>> HandleAsync(
        PathId projectId, EnvironmentRef env, CreateFlagRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        ProjectChanges changes, HttpRequest http, CancellationToken ct)
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

        var scope = new { ProjectId = projectId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key };
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            if (await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(EnvironmentScope.LockProjectShared, scope, transaction, cancellationToken: ct)) is null)
            {
                return TypedResults.NotFound();
            }
            var flagId = await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(Sql, new
            {
                scope.ProjectId, scope.EnvId, scope.EnvKey, Name = name, request.Key,
                Description = string.IsNullOrEmpty(description) ? null : description,
                Enabled = request.Enabled ?? false, RolloutPercentage = request.RolloutPercentage ?? 0,
            }, transaction, cancellationToken: ct));
            if (flagId is null)
            {
                return TypedResults.NotFound();
            }
            var flag = await connection.QuerySingleAsync<FlagRow>(new CommandDefinition(
                $"{FlagsEndpoints.Select} AND f.id = @FlagId", new { scope.ProjectId, scope.UserId, scope.EnvId, scope.EnvKey, FlagId = flagId },
                transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
            changes.Publish(projectId.Value);
            return TypedResults.Created($"{http.Path.Value!.TrimEnd('/')}/{flag.Id}", flag.ToResponse());
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
