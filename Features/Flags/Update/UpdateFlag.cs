using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
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
        ProjectScope scope, PathId flagId, UpdateFlagRequest request, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        var state = new FlagStateRequest(request.Enabled, request.RolloutPercentage, request.OffVariant, request.Serve, request.Prerequisites);
        var specChanged = request is not { Name: null, Description: null, Variants: null };
        if (!specChanged && state.IsEmpty)
        {
            return TypedResults.ValidationProblem(new FieldErrors()
                .Add("body", "must contain at least one of: name, description, enabled, rollout_percentage, variants, off_variant, serve, prerequisites")
                .ToDictionary());
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Locks the flag, so concurrent updates of its variants take turns.
        var current = await FlagConfigStore.ReadAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, ct, lockFlag: true);
        if (current is null)
        {
            return TypedResults.NotFound();
        }

        var errors = new FieldErrors();
        var spec = FlagConfigInput.Spec(current.Spec, request.Name, request.Key, request.Description, request.ValueType, request.Variants, errors);
        var catalog = await FlagConfigStore.CatalogAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, ct,
            lockGraph: request.Prerequisites is not null);
        var config = spec is null ? null : FlagConfigInput.Apply(current.Config, spec, state, catalog, errors);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Flag, scope.ProjectId, flagId.Value, scope.EnvironmentId, ct);
        if (!state.IsEmpty)
        {
            await FlagConfigStore.WriteAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, config!, ct);
        }
        if (specChanged)
        {
            var removed = current.Spec.VariantKeys.Except(spec!.VariantKeys, StringComparer.Ordinal).ToArray();
            var uses = removed.Length == 0 ? []
                : (await connection.QueryAsync<Use>(new CommandDefinition(UsesSql, new { FlagId = flagId.Value, Removed = removed }, transaction, cancellationToken: ct))).ToArray();
            if (uses.Length > 0)
            {
                return StillServed(uses);
            }
            await FlagConfigStore.WriteSpecAsync(connection, transaction, flagId.Value, spec, ct);
        }

        var flag = await connection.QuerySingleAsync<FlagRow>(new CommandDefinition(
            $"{FlagsEndpoints.Select} AND f.id = @FlagId", new { scope.ProjectId, scope.EnvironmentId, FlagId = flagId.Value }, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "flag.updated", AuditResources.Flag, flagId.Value, ct,
            before, scope.EnvironmentId);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
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
