using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.Toggle;

public static class ToggleFlag
{
    public static RouteHandlerBuilder MapToggleFlag(this IEndpointRouteBuilder flags) =>
        flags.MapPost("/{flagId}/toggle", HandleAsync);

    // The kill switch of one environment. The state row is locked while it is read, so concurrent
    // toggles take turns and none is lost.
    internal static async Task<Results<Ok<FlagResponse>, NotFound>> HandleAsync(
        ProjectScope scope, PathId flagId, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var current = await FlagConfigStore.ReadAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value, ct);
        if (current is null)
        {
            return TypedResults.NotFound();
        }
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Flag, scope.ProjectId, flagId.Value, scope.EnvironmentId, ct);
        await FlagConfigStore.WriteAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId.Value,
            current.Config with { Enabled = !current.Config.Enabled }, ct);
        var flag = await connection.QuerySingleAsync<FlagRow>(new CommandDefinition($"{FlagsEndpoints.Select} AND f.id = @FlagId",
            new { scope.ProjectId, scope.EnvironmentId, FlagId = flagId.Value }, transaction, cancellationToken: ct));
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "flag.toggled", AuditResources.Flag, flagId.Value, ct,
            before, scope.EnvironmentId);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.Ok(flag.ToResponse());
    }
}
