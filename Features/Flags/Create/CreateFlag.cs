using System.Security.Claims;
using System.Text.Json;
using Dapper;
using FlagService.Features.Audit;
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
        string? Name, string? Key, string? Description = null, bool? Enabled = null, int? RolloutPercentage = null,
        string? ValueType = null, VariantRequest[]? Variants = null, string? OffVariant = null, ServeRequest? Serve = null,
        PrerequisiteRequest[]? Prerequisites = null);

    public static RouteHandlerBuilder MapCreateFlag(this IEndpointRouteBuilder flags) =>
        flags.MapPost("/", HandleAsync);

    // The flag and its state in every environment: the body's in the environment the request
    // means, disabled at 0 % in the others (other types: serving and off at their first variant).
    // The unique (project_id, key) constraint settles concurrent creates of one key.
    private const string Sql = $"""
        WITH target AS (
            SELECT e.id FROM environments e WHERE e.project_id = @ProjectId AND {EnvironmentScope.Matches}),
        flag AS (
            INSERT INTO feature_flags (project_id, name, key, description, value_type)
            SELECT @ProjectId, @Name, @Key, @Description, @ValueType FROM target
            RETURNING id, project_id),
        states AS (
            INSERT INTO flag_environments (project_id, flag_id, environment_id, enabled, rollout_percentage, off_variant, serve)
            SELECT flag.project_id, flag.id, e.id,
                   e.id = target.id AND @Enabled, CASE WHEN e.id = target.id THEN @RolloutPercentage ELSE 0 END,
                   CASE WHEN e.id = target.id THEN COALESCE(@OffVariant, @DefaultVariant) ELSE @DefaultVariant END,
                   CASE WHEN e.id = target.id THEN COALESCE(CAST(@Serve AS jsonb), CAST(@DefaultServe AS jsonb))
                        ELSE CAST(@DefaultServe AS jsonb) END
              FROM flag, target, environments e
             WHERE e.project_id = flag.project_id)
        SELECT flag.id, target.id AS environment_id FROM flag, target
        """;

    private sealed record Inserted(Guid Id, Guid EnvironmentId);

    internal static async Task<Results<Created<FlagResponse>, NotFound, ValidationProblem, ProblemHttpResult>> HandleAsync(
        PathId projectId, EnvironmentRef env, CreateFlagRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        ProjectChanges changes, HttpRequest http, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var name = errors.Text("name", request.Name, 1, ProjectInput.NameMax, required: true);
        FlagInput.Key(errors, request.Key);
        var description = errors.Text("description", request.Description, 0, ProjectInput.DescriptionMax, required: false);
        var valueType = request.ValueType ?? ValueTypes.Boolean;
        Variants.ValueType(errors, request.ValueType);
        var variants = errors.Any ? null : Variants.Validate(errors, valueType, request.Variants, required: true);
        var state = variants is null ? null
            : Variants.State(errors, valueType, variants.Select(v => v.Key).ToArray(), request.RolloutPercentage, request.OffVariant, request.Serve);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        // Other types keep what they serve explicit in every environment, so that removing a
        // variant later can say exactly where it is still served.
        var boolean = valueType == ValueTypes.Boolean;
        var first = variants![0].Key;
        var scope = new { ProjectId = projectId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key };
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            if (await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(EnvironmentScope.LockProjectShared, scope, transaction, cancellationToken: ct)) is null)
            {
                return TypedResults.NotFound();
            }
            var inserted = await connection.QuerySingleOrDefaultAsync<Inserted>(new CommandDefinition(Sql, new
            {
                scope.ProjectId, scope.EnvId, scope.EnvKey, Name = name, request.Key,
                Description = string.IsNullOrEmpty(description) ? null : description, ValueType = valueType,
                Enabled = request.Enabled ?? false, RolloutPercentage = state!.Rollout ?? 0,
                state.OffVariant, Serve = state.ServeJson,
                DefaultVariant = boolean ? null : first,
                DefaultServe = boolean ? null : JsonSerializer.Serialize(new { variant = first }),
            }, transaction, cancellationToken: ct));
            if (inserted is null)
            {
                return TypedResults.NotFound();
            }
            var flagId = inserted.Id;
            await connection.ExecuteAsync(new CommandDefinition(FlagsEndpoints.InsertVariants,
                FlagsEndpoints.VariantArgs(flagId, variants), transaction, cancellationToken: ct));
            if (request.Prerequisites is { Length: > 0 } prerequisites &&
                await Prerequisites.ReplaceAsync(connection, transaction, scope.ProjectId, inserted.EnvironmentId, flagId, request.Key!,
                    prerequisites, ct) is { } invalid)
            {
                return TypedResults.ValidationProblem(invalid);
            }
            var flag = await connection.QuerySingleAsync<FlagRow>(new CommandDefinition(
                $"{FlagsEndpoints.Select} AND f.id = @FlagId", new { scope.ProjectId, scope.UserId, scope.EnvId, scope.EnvKey, FlagId = flagId },
                transaction, cancellationToken: ct));
            await AuditTrail.RecordAsync(connection, transaction, user, scope.ProjectId, "flag.created", AuditResources.Flag, flag.Id, ct,
                environmentId: inserted.EnvironmentId);
            await transaction.CommitAsync(ct);
            changes.Publish(projectId.Value);
            return TypedResults.Created($"{http.Path.Value!.TrimEnd('/')}/{flag.Id}", flag.ToResponse());
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return Conflicts.KeyTaken("Flag key already exists", $"The project already has a flag with the key '{request.Key}'.");
        }
    }
}
