using System.Security.Claims;
using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Environments;
using FlagService.Features.Evaluation;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.Toggle;

public static class ToggleFlag
{
    public static RouteHandlerBuilder MapToggleFlag(this IEndpointRouteBuilder flags) =>
        flags.MapPost("/{flagId}/toggle", HandleAsync);

    // The kill switch of one environment. One UPDATE, so concurrent toggles serialise on the row
    // and none is lost; the second statement reads the flag back (same batch, same transaction).
    private const string Sql = $"""
        UPDATE flag_environments s SET enabled = NOT s.enabled, updated_at = now()
          FROM feature_flags f, user_projects(@UserId) m, environments e
         WHERE f.id = @FlagId AND f.project_id = @ProjectId AND m.project_id = f.project_id
           AND e.project_id = f.project_id AND {EnvironmentScope.Matches}
           AND s.flag_id = f.id AND s.environment_id = e.id;
        {FlagsEndpoints.Select} AND f.id = @FlagId;
        """;

    internal static async Task<Results<Ok<FlagResponse>, NotFound>> HandleAsync(
        PathId projectId, EnvironmentRef env, PathId flagId, ClaimsPrincipal user, NpgsqlDataSource db, ProjectChanges changes,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var environmentId = await AuditTrail.EnvironmentIdAsync(connection, transaction, projectId.Value, env, ct);
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Flag, projectId.Value, flagId.Value, environmentId, ct);
        var flag = await connection.QuerySingleOrDefaultAsync<FlagRow>(new CommandDefinition(Sql, new
        {
            ProjectId = projectId.Value, FlagId = flagId.Value, UserId = user.UserId(), EnvId = env.Id, EnvKey = env.Key,
        }, transaction, cancellationToken: ct));
        if (flag is null)
        {
            return TypedResults.NotFound();
        }
        await AuditTrail.RecordAsync(connection, transaction, user, projectId.Value, "flag.toggled", AuditResources.Flag, flag.Id, ct,
            before, environmentId);
        await transaction.CommitAsync(ct);
        changes.Publish(projectId.Value);
        return TypedResults.Ok(flag.ToResponse());
    }
}
