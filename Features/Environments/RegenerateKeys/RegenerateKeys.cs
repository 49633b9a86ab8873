using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Environments.RegenerateKeys;

public static class RegenerateKeys
{
    public static RouteHandlerBuilder MapRegenerateKeys(this IEndpointRouteBuilder environments) =>
        environments.MapPost("/{env}/regenerate-keys", HandleAsync).WithName(nameof(RegenerateKeys));

    private const string Sql = $"""
        UPDATE environments e SET sdk_key = @SdkKey, server_key = @ServerKey, updated_at = now()
          FROM user_projects(@UserId) m
         WHERE e.project_id = @ProjectId AND m.project_id = e.project_id AND {EnvironmentScope.Matches}
        RETURNING {EnvironmentsEndpoints.Columns}
        """;

    internal static async Task<Results<Ok<EnvironmentResponse>, NotFound>> HandleAsync(
        PathId projectId, EnvironmentRef env, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var environment = await connection.QuerySingleOrDefaultAsync<EnvironmentResponse>(new CommandDefinition(Sql, new
        {
            ProjectId = projectId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
            SdkKey = EnvironmentKeys.NewSdkKey(), ServerKey = EnvironmentKeys.NewServerKey(),
        }, transaction, cancellationToken: ct));
        if (environment is null)
        {
            return TypedResults.NotFound();
        }
        // That the keys changed is recorded, never the keys.
        await AuditTrail.RecordAsync(connection, transaction, user, projectId.Value, "environment.keys_regenerated", AuditResources.Environment,
            environment.Id, ct, environmentId: environment.Id);
        await transaction.CommitAsync(ct);
        // The old keys stop at once here; other instances drop them when the trigger's NOTIFY arrives.
        changes.Publish(projectId.Value);
        return TypedResults.Ok(environment);
    }
}
