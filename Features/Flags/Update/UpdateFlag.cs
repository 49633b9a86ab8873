using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
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
    // Omitted or null fields keep their value. `key` and `value_type` may be sent but must equal
    // the current ones. name, description and variants belong to the flag (every environment);
    // enabled, rollout_percentage, off_variant and serve to its state in the environment the
    // request means. `variants` replaces the list.
    public sealed record UpdateFlagRequest(
        string? Name = null, string? Key = null, string? Description = null, bool? Enabled = null, int? RolloutPercentage = null,
        string? ValueType = null, VariantRequest[]? Variants = null, string? OffVariant = null, ServeRequest? Serve = null,
        PrerequisiteRequest[]? Prerequisites = null);

    public static RouteHandlerBuilder MapUpdateFlag(this IEndpointRouteBuilder flags) =>
        flags.MapPut("/{flagId}", HandleAsync);

    // VariantList: the variant keys in order, comma-separated (keys never hold a comma).
    private sealed record Current(string Key, string ValueType, Guid EnvironmentId, string VariantList)
    {
        public string[] Variants => VariantList.Split(',');
    }

    // Locks the flag, so concurrent updates of its variants take turns.
    private const string CurrentSql = $"""
        SELECT f.key, f.value_type, e.id AS environment_id,
               (SELECT string_agg(v.key, ',' ORDER BY v.position) FROM flag_variants v WHERE v.flag_id = f.id) AS variant_list
          FROM feature_flags f
          JOIN user_projects(@UserId) m ON m.project_id = f.project_id
          JOIN environments e ON e.project_id = f.project_id AND {EnvironmentScope.Matches}
         WHERE f.id = @FlagId AND f.project_id = @ProjectId
           FOR UPDATE OF f
        """;

    private const string WriteSql = """
        UPDATE feature_flags f
           SET name = COALESCE(@Name, f.name),
               description = CASE WHEN @Description IS NULL THEN f.description ELSE NULLIF(@Description, '') END,
               updated_at = now()
         WHERE f.id = @FlagId AND (@Name IS NOT NULL OR @Description IS NOT NULL OR @VariantsChanged);
        UPDATE flag_environments s
           SET enabled = COALESCE(@Enabled, s.enabled),
               rollout_percentage = COALESCE(@RolloutPercentage, s.rollout_percentage),
               off_variant = COALESCE(@OffVariant, s.off_variant),
               serve = COALESCE(CAST(@Serve AS jsonb), s.serve),
               updated_at = now()
         WHERE s.flag_id = @FlagId AND s.environment_id = @EnvironmentId
           AND (@Enabled IS NOT NULL OR @RolloutPercentage IS NOT NULL OR @OffVariant IS NOT NULL OR @Serve IS NOT NULL
                OR @PrerequisitesChanged);
        """;

    private sealed record Use(string Environment, Guid? RuleId, string Field, string Variant);

    // Where the flag serves the given variants, after this request's own state change.
    private const string UsesSql = """
        SELECT e.key AS environment, u.rule_id, u.field, u.variant
          FROM (SELECT s.environment_id, NULL::uuid AS rule_id, 'off_variant' AS field, s.off_variant AS variant
                  FROM flag_environments s WHERE s.flag_id = @FlagId
                UNION ALL
                SELECT s.environment_id, NULL, 'serve', v.variant
                  FROM flag_environments s,
                       LATERAL (SELECT s.serve ->> 'variant' UNION ALL
                                SELECT d ->> 'variant' FROM jsonb_array_elements(COALESCE(s.serve -> 'distribution', '[]')) d) v(variant)
                 WHERE s.flag_id = @FlagId
                UNION ALL
                SELECT p.environment_id, NULL, 'prerequisite of ' || df.key, p.variant
                  FROM flag_prerequisites p JOIN feature_flags df ON df.id = p.flag_id
                 WHERE p.required_flag_id = @FlagId
                UNION ALL
                SELECT r.environment_id, r.id, 'rule', v.variant
                  FROM targeting_rules r,
                       LATERAL (SELECT r.serve ->> 'variant' UNION ALL
                                SELECT d ->> 'variant' FROM jsonb_array_elements(COALESCE(r.serve -> 'distribution', '[]')) d) v(variant)
                 WHERE r.flag_id = @FlagId) u
          JOIN environments e ON e.id = u.environment_id
         WHERE u.variant = ANY(@Removed)
         ORDER BY e.key, u.field, u.rule_id
        """;

    internal static async Task<Results<Ok<FlagResponse>, NotFound, ValidationProblem, ProblemHttpResult>> HandleAsync(
        PathId projectId, EnvironmentRef env, PathId flagId, UpdateFlagRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        ProjectChanges changes, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (request is { Name: null, Description: null, Enabled: null, RolloutPercentage: null, Variants: null, OffVariant: null, Serve: null, Prerequisites: null })
        {
            errors.Add("body", "must contain at least one of: name, description, enabled, rollout_percentage, variants, off_variant, serve, prerequisites");
        }
        var name = errors.Text("name", request.Name, 1, ProjectInput.NameMax, required: false);
        var description = errors.Text("description", request.Description, 0, ProjectInput.DescriptionMax, required: false);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var scope = new { ProjectId = projectId.Value, FlagId = flagId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var current = await connection.QuerySingleOrDefaultAsync<Current>(new CommandDefinition(CurrentSql, scope, transaction, cancellationToken: ct));
        if (current is null)
        {
            return TypedResults.NotFound();
        }

        if (request.Key is not null && request.Key != current.Key)
        {
            errors.Add("key", "cannot be changed");
        }
        if (request.ValueType is not null && request.ValueType != current.ValueType)
        {
            errors.Add("value_type", $"cannot be changed (the flag is {current.ValueType}): create a new flag instead");
        }
        var variants = Variants.Validate(errors, current.ValueType, request.Variants, required: false);
        var keys = variants?.Select(v => v.Key).ToArray() ?? current.Variants;
        var state = Variants.State(errors, current.ValueType, keys, request.RolloutPercentage, request.OffVariant, request.Serve);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Flag, scope.ProjectId, scope.FlagId, current.EnvironmentId, ct);
        await connection.ExecuteAsync(new CommandDefinition(WriteSql, new
        {
            scope.FlagId, current.EnvironmentId, Name = name, Description = description, VariantsChanged = variants is not null,
            request.Enabled, RolloutPercentage = state.Rollout, state.OffVariant, Serve = state.ServeJson,
            PrerequisitesChanged = request.Prerequisites is not null,
        }, transaction, cancellationToken: ct));
        if (request.Prerequisites is { } prerequisites &&
            await Prerequisites.ReplaceAsync(connection, transaction, scope.ProjectId, current.EnvironmentId, scope.FlagId, current.Key,
                prerequisites, ct) is { } invalid)
        {
            return TypedResults.ValidationProblem(invalid);
        }

        if (variants is not null)
        {
            var removed = current.Variants.Except(keys, StringComparer.Ordinal).ToArray();
            var uses = removed.Length == 0 ? []
                : (await connection.QueryAsync<Use>(new CommandDefinition(UsesSql, new { scope.FlagId, Removed = removed }, transaction, cancellationToken: ct))).ToArray();
            if (uses.Length > 0)
            {
                return StillServed(uses);
            }
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM flag_variants WHERE flag_id = @FlagId", scope, transaction, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(FlagsEndpoints.InsertVariants,
                FlagsEndpoints.VariantArgs(scope.FlagId, variants), transaction, cancellationToken: ct));
        }

        var flag = await connection.QuerySingleAsync<FlagRow>(new CommandDefinition(
            $"{FlagsEndpoints.Select} AND f.id = @FlagId", scope, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, user, scope.ProjectId, "flag.updated", AuditResources.Flag, scope.FlagId, ct,
            before, current.EnvironmentId);
        await transaction.CommitAsync(ct);
        changes.Publish(projectId.Value);
        return TypedResults.Ok(flag.ToResponse());
    }

    // Nothing was written: the transaction is dropped with the connection.
    private static ProblemHttpResult StillServed(Use[] uses)
    {
        var places = uses.Select(u => u.RuleId is { } rule
            ? $"'{u.Variant}' by rule {rule} in '{u.Environment}'"
            : $"'{u.Variant}' as {u.Field} in '{u.Environment}'").Distinct().ToArray();
        return TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Variant still served",
            detail: $"A variant that is still served cannot be removed: {string.Join("; ", places)}. Serve another variant there first.",
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["variants"] = places } });
    }
}
