using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Environments.Delete;

public static class DeleteEnvironment
{
    public static RouteHandlerBuilder MapDeleteEnvironment(this IEndpointRouteBuilder environments) =>
        environments.MapDelete("/{env}", HandleAsync).WithName(nameof(DeleteEnvironment));

    // The flags' state, rules and analytics of the environment go with it (ON DELETE CASCADE).
    // The default is never deleted, so a project always keeps one environment and one default;
    // whether it is the default is read here, under the project lock, not from the scope.
    private const string Sql = """
        WITH target AS (SELECT e.id, e.is_default FROM environments e WHERE e.id = @EnvironmentId),
        deleted AS (
            DELETE FROM environments e USING target t WHERE e.id = t.id AND NOT t.is_default RETURNING e.id)
        SELECT t.is_default FROM target t
        """;

    internal static async Task<Results<NoContent, NotFound, ProblemHttpResult>> HandleAsync(
        ProjectScope scope, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(EnvironmentScope.LockProjectExclusive, new { scope.ProjectId }, transaction, cancellationToken: ct));
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Environment, scope.ProjectId, scope.EnvironmentId, null, ct);
        var isDefault = await connection.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition(Sql, new { scope.EnvironmentId }, transaction, cancellationToken: ct));
        if (isDefault is null)
        {
            return TypedResults.NotFound(); // deleted since the scope found it
        }
        if (isDefault.Value)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Default environment",
                detail: "The default environment cannot be deleted: make another environment the default first.");
        }
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "environment.deleted", AuditResources.Environment,
            scope.EnvironmentId, ct, before, environment: scope.Environment.Key);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.NoContent();
    }
}
