using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Rules.Create;

public static class CreateRule
{
    public static RouteHandlerBuilder MapCreateRule(this IEndpointRouteBuilder rules) =>
        rules.MapPost("/", HandleAsync);

    // The rule joins the flag's configuration in the environment; its id is made here, its
    // created_at by the database (so it evaluates after older rules of the same priority).
    internal static async Task<Results<Created<RuleResponse>, NotFound, ValidationProblem>> HandleAsync(
        ProjectScope scope, PathId flagId, RuleRequest request, NpgsqlDataSource db, ProjectChanges changes, HttpRequest http,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var stored = await FlagConfigStore.ReadAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, ct);
        if (stored is null)
        {
            return TypedResults.NotFound();
        }

        var errors = new FieldErrors();
        var catalog = await FlagConfigStore.CatalogAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, ct);
        var rule = FlagConfigInput.Rule(request, Guid.NewGuid(), stored.Spec, catalog, errors);
        if (rule is null)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        await FlagConfigStore.WriteAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value,
            stored.Config with { Rules = [.. stored.Config.Rules, rule] }, ct);
        var written = (await FlagConfigStore.ReadAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, ct))!;
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "rule.created", AuditResources.Rule, rule.Id, ct,
            environmentId: scope.EnvironmentId);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.Created($"{http.Path.Value!.TrimEnd('/')}/{rule.Id}",
            RulesEndpoints.Response(written.Config.Rule(rule.Id)!, flagId.Value, stored.Spec, scope.Environment.Key));
    }
}
