using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Environments.Update;

public static class UpdateEnvironment
{
    // Partial. `is_default` can only be set to true: the default moves to this environment.
    public sealed record UpdateEnvironmentRequest(string? Name = null, string? Description = null, bool? IsDefault = null);

    public static RouteHandlerBuilder MapUpdateEnvironment(this IEndpointRouteBuilder environments) =>
        environments.MapPut("/{env}", HandleAsync).WithName(nameof(UpdateEnvironment));

    // Two statements, because the one-default index is checked row by row: the old default is
    // cleared before the new one is set (under the project lock, so no other switch interleaves).
    // No row back: the environment was deleted since the scope found it, and the transaction,
    // never committed, undoes the first statement.
    private const string Sql = $"""
        UPDATE environments SET is_default = false, updated_at = now()
         WHERE project_id = @ProjectId AND is_default AND id <> @Id AND @MakeDefault;
        UPDATE environments e
           SET name = COALESCE(@Name, e.name),
               description = CASE WHEN @Description IS NULL THEN e.description ELSE NULLIF(@Description, '') END,
               is_default = e.is_default OR @MakeDefault,
               updated_at = now()
         WHERE e.id = @Id
        RETURNING {EnvironmentsEndpoints.Columns};
        """;

    internal static async Task<Results<Ok<EnvironmentResponse>, NotFound, ValidationProblem>> HandleAsync(
        ProjectScope scope, UpdateEnvironmentRequest request, NpgsqlDataSource db, ProjectChanges changes, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (request is { Name: null, Description: null, IsDefault: null })
        {
            errors.Add("body", "must contain at least one of: name, description, is_default");
        }
        var (name, description) = ProjectInput.Validate(errors, request.Name, request.Description, nameRequired: false);
        if (request.IsDefault == false)
        {
            errors.Add("is_default", "can only be set to true: make another environment the default instead");
        }
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(EnvironmentScope.LockProjectExclusive, new { scope.ProjectId }, transaction, cancellationToken: ct));
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Environment, scope.ProjectId, scope.EnvironmentId, null, ct);
        var environment = await connection.QuerySingleOrDefaultAsync<EnvironmentResponse>(new CommandDefinition(Sql, new
        {
            scope.ProjectId, Id = scope.EnvironmentId, Name = name, Description = description, MakeDefault = request.IsDefault == true,
        }, transaction, cancellationToken: ct));
        if (environment is null)
        {
            return TypedResults.NotFound();
        }
        await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "environment.updated", AuditResources.Environment,
            environment.Id, ct, before, environmentId: environment.Id);
        await transaction.CommitAsync(ct);
        changes.Publish(scope.ProjectId);
        return TypedResults.Ok(environment);
    }
}
