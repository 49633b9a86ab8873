using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Flags.Create;

public static class CreateFlag
{
    public sealed record CreateFlagRequest(
        string? Name, string? Key, string? Description = null, bool? Enabled = null, int? RolloutPercentage = null,
        string? ValueType = null, VariantRequest[]? Variants = null, string? OffVariant = null, ServeRequest? Serve = null,
        PrerequisiteRequest[]? Prerequisites = null)
    {
        public FlagStateRequest State => new(Enabled, RolloutPercentage, OffVariant, Serve, Prerequisites);
    }

    public static RouteHandlerBuilder MapCreateFlag(this IEndpointRouteBuilder flags) =>
        flags.MapPost("/", HandleAsync);

    // The flag starts in its initial state in every environment (FlagConfig.Initial); the body's
    // state fields then apply to the environment the request means, like a PUT would.
    internal static async Task<Results<Created<FlagResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        ProjectScope scope, CreateFlagRequest request, NpgsqlDataSource db, ProjectChanges changes, HttpRequest http, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var spec = FlagConfigInput.Spec(request.Name, request.Key, request.Description, request.ValueType, request.Variants, errors);
        if (spec is null)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var flagId = await FlagConfigStore.CreateAsync(connection, transaction, scope.ProjectId, spec, ct);
            var catalog = await FlagConfigStore.CatalogAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, ct,
                lockGraph: request.Prerequisites is not null);
            var config = FlagConfigInput.Apply(FlagConfig.Initial(spec), spec, request.State, catalog, errors);
            if (config is null)
            {
                return TypedResults.ValidationProblem(errors.ToDictionary()); // nothing is committed
            }
            await FlagConfigStore.WriteAsync(connection, transaction, scope.ProjectId, scope.EnvironmentId, flagId, config, ct);
            var flag = await connection.QuerySingleAsync<FlagRow>(new CommandDefinition($"{FlagsEndpoints.Select} AND f.id = @FlagId",
                new { scope.ProjectId, scope.EnvironmentId, FlagId = flagId }, transaction, cancellationToken: ct));
            await AuditTrail.RecordAsync(connection, transaction, scope.Actor, scope.ProjectId, "flag.created", AuditResources.Flag, flagId, ct,
                environmentId: scope.EnvironmentId);
            await transaction.CommitAsync(ct);
            changes.Publish(scope.ProjectId);
            return TypedResults.Created($"{http.Path.Value!.TrimEnd('/')}/{flagId}", flag.ToResponse());
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return Conflicts.KeyTaken("Flag key already exists", $"The project already has a flag with the key '{request.Key}'.");
        }
    }
}
