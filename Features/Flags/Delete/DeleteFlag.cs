using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.Delete;

public static class DeleteFlag
{
    public static RouteHandlerBuilder MapDeleteFlag(this IEndpointRouteBuilder flags) =>
        flags.MapDelete("/{flagId}", HandleAsync);

    // A flag is removed from every environment, also when deleted through one environment's route
    // (which must name an environment of the project). Its state, rules and counters go through
    // ON DELETE CASCADE; the contexts of its single-flag evaluations, and its entry in each
    // identifier's latest results recorded before 0011, in the same statement.
    private const string Sql = """
        WITH deleted AS (
            DELETE FROM feature_flags f
             WHERE f.id = @FlagId AND f.project_id = @ProjectId
            RETURNING f.id, f.project_id),
        forgotten AS (
            UPDATE evaluation_latest l SET results = l.results - d.id::text
              FROM deleted d JOIN environments e ON e.project_id = d.project_id
             WHERE l.environment_id = e.id AND (l.results -> d.id::text) IS NOT NULL),
        contexts AS (
            DELETE FROM evaluation_contexts c USING deleted d WHERE c.flag_id = d.id)
        SELECT count(*) FROM deleted
        """;

    private sealed record Dependent(string Flag, string Environment);

    // Flags that require this one somewhere; the foreign key refuses the delete while there are any.
    private const string DependentsSql = """
        SELECT DISTINCT df.key AS flag, e.key AS environment
          FROM flag_prerequisites p
          JOIN feature_flags df ON df.id = p.flag_id
          JOIN environments e ON e.id = p.environment_id
         WHERE p.required_flag_id = @FlagId
         ORDER BY df.key, e.key
        """;

    internal static async Task<Results<NoContent, NotFound, ProblemHttpResult>> HandleAsync(
        ProjectScope scope, PathId flagId, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        var args = new { scope.ProjectId, FlagId = flagId.Value };
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        try
        {
            var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Flag, scope.ProjectId, flagId.Value, scope.EnvironmentId, ct);
            var deleted = await connection.ExecuteScalarAsync<long>(new CommandDefinition(Sql, args, transaction, cancellationToken: ct));
            if (deleted == 0)
            {
                return TypedResults.NotFound();
            }
            await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "flag.deleted", AuditResources.Flag, flagId.Value, ct,
                before, scope.EnvironmentId);
            await transaction.CommitAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            await transaction.RollbackAsync(ct); // the failed statement aborted it; the query below needs a live one
            var dependents = (await connection.QueryAsync<Dependent>(new CommandDefinition(DependentsSql, args, cancellationToken: ct))).ToArray();
            var places = dependents.Select(d => $"flag '{d.Flag}' in '{d.Environment}'").ToArray();
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Flag is a prerequisite",
                detail: $"Other flags require this one: {string.Join(", ", places)}. Remove those prerequisites first.",
                extensions: new Dictionary<string, object?> { ["required_by"] = dependents.Select(d => new { flag = d.Flag, environment = d.Environment }).ToArray() });
        }
        changes.Publish(scope.ProjectId);
        return TypedResults.NoContent();
    }
}
