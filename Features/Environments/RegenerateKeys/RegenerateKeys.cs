using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Environments.RegenerateKeys;

public static class RegenerateKeys
{
    public static RouteHandlerBuilder MapRegenerateKeys(this IEndpointRouteBuilder environments) =>
        environments.MapPost("/{env}/regenerate-keys", HandleAsync).WithName(nameof(RegenerateKeys));

    private const string Sql = $"""
        UPDATE environments e SET sdk_key = @SdkKey, server_key = @ServerKey, updated_at = now()
         WHERE e.id = @EnvironmentId
        RETURNING {EnvironmentsEndpoints.Columns}
        """;

    internal static async Task<Results<Ok<EnvironmentResponse>, NotFound>> HandleAsync(
        ProjectScope scope, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var environment = await connection.QuerySingleOrDefaultAsync<EnvironmentResponse>(new CommandDefinition(Sql, new
        {
            scope.EnvironmentId, SdkKey = EnvironmentKeys.NewSdkKey(), ServerKey = EnvironmentKeys.NewServerKey(),
        }, transaction, cancellationToken: ct));
        if (environment is null)
        {
            return TypedResults.NotFound(); // deleted since the scope found it
        }
        // That the keys changed is recorded, never the keys.
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "environment.keys_regenerated", AuditResources.Environment,
            environment.Id, ct, environmentId: environment.Id);
        await transaction.CommitAsync(ct);
        // The old keys stop at once here; other instances drop them when the trigger's NOTIFY arrives.
        changes.Publish(scope.ProjectId);
        return TypedResults.Ok(environment);
    }
}
