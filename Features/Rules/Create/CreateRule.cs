using System.Security.Claims;
using Dapper;
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
        int? RolloutPercentage = null);

    public static RouteHandlerBuilder MapCreateRule(this IEndpointRouteBuilder rules) =>
        rules.MapPost("/", HandleAsync);

    // Inserts only into a state of the caller's flag in the environment the request means.
    private const string Sql = $"""
        WITH state AS ({RulesEndpoints.State}),
        inserted AS (
            INSERT INTO targeting_rules (flag_id, environment_id, rule_type, rule_value, conditions, rollout_percentage, enabled, priority)
            SELECT state.flag_id, state.environment_id, @RuleType, @RuleValue, CAST(@Conditions AS jsonb), @RolloutPercentage,
                   @Enabled, @Priority
              FROM state
            RETURNING *)
        SELECT {RulesEndpoints.Columns}, state.environment
          FROM inserted r, state
        """;

    internal static async Task<Results<Created<RuleResponse>, NotFound, ValidationProblem>> HandleAsync(
        PathId projectId, EnvironmentRef env, PathId flagId, CreateRuleRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        ProjectChanges changes, HttpRequest http, CancellationToken ct)
    {
        var errors = new FieldErrors().Merge(RuleValidation.ValidateRule(request.RuleType, request.RuleValue, request.Conditions?.Json));
        FlagInput.Rollout(errors, request.RolloutPercentage);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var attributeRule = request.RuleType == RuleTypes.AttributeMatch;
        await using var connection = await db.OpenConnectionAsync(ct);
        var rule = await connection.QuerySingleOrDefaultAsync<RuleRow>(new CommandDefinition(Sql, new
        {
            ProjectId = projectId.Value, FlagId = flagId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
            request.RuleType,
            RuleValue = attributeRule ? null : RuleValidation.NormalizeRuleValue(request.RuleValue!),
            Conditions = attributeRule ? RuleValidation.NormalizeConditions(request.Conditions!.Json) : null,
            RolloutPercentage = request.RolloutPercentage ?? 100,
            Enabled = request.Enabled ?? true,
            Priority = request.Priority ?? 0,
        }, cancellationToken: ct));
        if (rule is null)
        {
            return TypedResults.NotFound();
        }
        changes.Publish(projectId.Value);
        return TypedResults.Created($"{http.Path.Value!.TrimEnd('/')}/{rule.Id}", rule.ToResponse());
    }
}
