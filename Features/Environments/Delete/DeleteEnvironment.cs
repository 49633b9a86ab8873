using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Environments.Delete;

public static class DeleteEnvironment
{
    public static RouteHandlerBuilder MapDeleteEnvironment(this IEndpointRouteBuilder environments) =>
        environments.MapDelete("/{env}", HandleAsync).WithName(nameof(DeleteEnvironment));

    // The flags' state, rules and analytics of the environment go with it (ON DELETE CASCADE).
    // The default is never deleted, so a project always keeps one environment and one default.
    private const string Sql = $"""
        WITH target AS (
            SELECT e.id, e.is_default FROM environments e
             WHERE e.project_id = @ProjectId AND {EnvironmentScope.Matches}),
        deleted AS (
            DELETE FROM environments e USING target t WHERE e.id = t.id AND NOT t.is_default RETURNING e.id)
        SELECT t.is_default FROM target t
        """;

    internal static async Task<Results<NoContent, NotFound, ProblemHttpResult>> HandleAsync(
        PathId projectId, EnvironmentRef env, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        var scope = new { ProjectId = projectId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var locked = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(EnvironmentScope.LockProjectExclusive, scope, transaction, cancellationToken: ct)) is not null;
        var id = locked ? await AuditTrail.EnvironmentIdAsync(connection, transaction, projectId.Value, env, ct) : null;
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Environment, projectId.Value, id, null, ct);
        var isDefault = !locked
            ? null
            : await connection.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition(Sql, scope, transaction, cancellationToken: ct));
        if (isDefault is null)
        {
            return TypedResults.NotFound();
        }
        if (isDefault.Value)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Default environment",
                detail: "The default environment cannot be deleted: make another environment the default first.");
        }
        await AuditTrail.RecordAsync(connection, transaction, user, projectId.Value, "environment.deleted", AuditResources.Environment,
            id, ct, before, environment: before is null ? null : System.Text.Json.JsonDocument.Parse(before).RootElement.GetProperty("key").GetString());
        await transaction.CommitAsync(ct);
        changes.Publish(projectId.Value);
        return TypedResults.NoContent();
    }
}
