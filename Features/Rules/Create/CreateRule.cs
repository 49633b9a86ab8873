using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Create;

public static class CreateRule
{
    public sealed record CreateRuleRequest(
        string? RuleType, string? RuleValue = null, Conditions? Conditions = null, bool? Enabled = null, int? Priority = null,
        int? RolloutPercentage = null, ServeRequest? Serve = null);

    public static RouteHandlerBuilder MapCreateRule(this IEndpointRouteBuilder rules) =>
        rules.MapPost("/", HandleAsync);

    // The flag is share-locked, so its variants cannot be replaced before the rule that serves
    // one of them is written.
    private const string TargetSql = $"{RulesEndpoints.State} FOR SHARE OF f";

    private const string Sql = $"""
        WITH inserted AS (
            INSERT INTO targeting_rules (flag_id, environment_id, rule_type, rule_value, conditions, rollout_percentage, enabled,
                                         priority, serve)
            VALUES (@FlagId, @EnvironmentId, @RuleType, @RuleValue, CAST(@Conditions AS jsonb), @RolloutPercentage, @Enabled,
                    @Priority, CAST(@Serve AS jsonb))
            RETURNING *)
        SELECT {RulesEndpoints.Columns}, @Environment AS environment, @ValueType AS value_type, r.serve::text AS serve
          FROM inserted r
        """;

    internal static async Task<Results<Created<RuleResponse>, NotFound, ValidationProblem>> HandleAsync(
        PathId projectId, EnvironmentRef env, PathId flagId, CreateRuleRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        ProjectChanges changes, HttpRequest http, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var target = await connection.QuerySingleOrDefaultAsync<RuleTarget>(new CommandDefinition(TargetSql, new
        {
            ProjectId = projectId.Value, FlagId = flagId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
        }, transaction, cancellationToken: ct));
        if (target is null)
        {
            return TypedResults.NotFound();
        }

        var errors = new FieldErrors().Merge(RuleValidation.ValidateRule(request.RuleType, request.RuleValue, request.Conditions?.Json));
        var (rollout, serve) = Variants.RuleServe(errors, target.ValueType, target.Variants, request.RolloutPercentage, request.Serve, required: true);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        if (request.RuleType == RuleTypes.Segment && await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(RulesEndpoints.SegmentExists,
                new { ProjectId = projectId.Value, Key = RuleValidation.NormalizeRuleValue(request.RuleValue!) }, transaction, cancellationToken: ct)) is null)
        {
            return TypedResults.ValidationProblem(RulesEndpoints.UnknownSegment(request.RuleValue!.Trim()));
        }

        var attributeRule = request.RuleType == RuleTypes.AttributeMatch;
        var rule = await connection.QuerySingleAsync<RuleRow>(new CommandDefinition(Sql, new
        {
            target.FlagId, target.EnvironmentId, target.Environment, target.ValueType,
            request.RuleType,
            RuleValue = attributeRule ? null : RuleValidation.NormalizeRuleValue(request.RuleValue!),
            Conditions = attributeRule ? RuleValidation.NormalizeConditions(request.Conditions!.Json) : null,
            RolloutPercentage = rollout ?? 100,
            Enabled = request.Enabled ?? true,
            Priority = request.Priority ?? 0,
            Serve = serve,
        }, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, user, projectId.Value, "rule.created", AuditResources.Rule, rule.Id, ct,
            environmentId: target.EnvironmentId);
        await transaction.CommitAsync(ct);
        changes.Publish(projectId.Value);
        return TypedResults.Created($"{http.Path.Value!.TrimEnd('/')}/{rule.Id}", rule.ToResponse());
    }
}
