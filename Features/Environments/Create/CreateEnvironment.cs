using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Environments.Create;

public static class CreateEnvironment
{
    public sealed record CreateEnvironmentRequest(string? Key, string? Name, string? Description = null, string? CopyFrom = null);

    public static RouteHandlerBuilder MapCreateEnvironment(this IEndpointRouteBuilder environments) =>
        environments.MapPost("/", HandleAsync).WithName(nameof(CreateEnvironment));

    private const string SourceSql = "SELECT id FROM environments WHERE project_id = @ProjectId AND key = @CopyFrom";

    private const string InsertSql = $"""
        INSERT INTO environments AS e (project_id, key, name, description, sdk_key, server_key)
        VALUES (@ProjectId, @Key, @Name, @Description, @SdkKey, @ServerKey)
        RETURNING {EnvironmentsEndpoints.Columns}
        """;

    // Every flag gets its state here: the source's, or disabled at 0 % without rules (flags of
    // other types serving, and off at, their first variant).
    private const string StatesSql = """
        INSERT INTO flag_environments (project_id, flag_id, environment_id, enabled, rollout_percentage, off_variant, serve)
        SELECT f.project_id, f.id, @TargetId, COALESCE(s.enabled, false), COALESCE(s.rollout_percentage, 0),
               CASE WHEN s.flag_id IS NOT NULL THEN s.off_variant WHEN f.value_type <> 'boolean' THEN first.key END,
               CASE WHEN s.flag_id IS NOT NULL THEN s.serve WHEN f.value_type <> 'boolean' THEN jsonb_build_object('variant', first.key) END
          FROM feature_flags f
          LEFT JOIN flag_environments s ON s.flag_id = f.id AND s.environment_id = @SourceId
          LEFT JOIN LATERAL (SELECT v.key FROM flag_variants v WHERE v.flag_id = f.id ORDER BY v.position LIMIT 1) first ON true
         WHERE f.project_id = @ProjectId
        """;

    internal static async Task<Results<Created<EnvironmentResponse>, NotFound, ValidationProblem, ProblemHttpResult>> HandleAsync(
        ProjectScope scope, CreateEnvironmentRequest request, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        var errors = new FieldErrors();
        EnvironmentInput.Key(errors, request.Key);
        var name = errors.Text("name", request.Name, 1, ProjectInput.NameMax, required: true);
        var description = errors.Text("description", request.Description, 0, ProjectInput.DescriptionMax, required: false);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var args = new { scope.ProjectId, request.CopyFrom };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(EnvironmentScope.LockProjectExclusive, args, transaction, cancellationToken: ct)) is null)
        {
            return TypedResults.NotFound(); // the project was deleted since the scope was resolved
        }

        Guid? sourceId = null;
        if (request.CopyFrom is not null)
        {
            sourceId = await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(SourceSql, args, transaction, cancellationToken: ct));
            if (sourceId is null)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["copy_from"] = [$"names no environment of this project ('{request.CopyFrom}')"],
                });
            }
        }

        EnvironmentResponse environment;
        try
        {
            environment = await connection.QuerySingleAsync<EnvironmentResponse>(new CommandDefinition(InsertSql, new
            {
                scope.ProjectId, request.Key, Name = name, Description = string.IsNullOrEmpty(description) ? null : description,
                SdkKey = EnvironmentKeys.NewSdkKey(), ServerKey = EnvironmentKeys.NewServerKey(),
            }, transaction, cancellationToken: ct));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return Conflicts.KeyTaken("Environment key already exists", $"The project already has an environment with the key '{request.Key}'.");
        }

        var copy = new { scope.ProjectId, TargetId = environment.Id, SourceId = sourceId, FlagIds = (Guid[]?)null };
        await connection.ExecuteAsync(new CommandDefinition(StatesSql, copy, transaction, cancellationToken: ct));
        if (sourceId is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(EnvironmentScope.CopyRules, copy, transaction, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(EnvironmentScope.CopyPrerequisites, copy, transaction, cancellationToken: ct));
        }
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "environment.created", AuditResources.Environment,
            environment.Id, ct, environmentId: environment.Id);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.Created($"/api/projects/{scope.ProjectId}/environments/{environment.Key}", environment);
    }
}
