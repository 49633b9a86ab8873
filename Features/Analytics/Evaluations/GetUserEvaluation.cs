using Dapper;
using FlagService.Features.Evaluation;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Analytics.Evaluations;

public static class GetUserEvaluation
{
    public sealed record UserEvaluationResponse(
        Guid FlagId, string FlagKey, string Identifier, bool Enabled, string Reason, string Variant, DateTime EvaluatedAt,
        string Environment);

    private sealed record Row(Guid FlagId, string FlagKey, bool? Result, string? Reason, string? Variant, DateTime? EvaluatedAt);

    private sealed record ContextRow(string Version, string Context, DateTime EvaluatedAt);

    public static RouteHandlerBuilder MapGetUserEvaluation(this IEndpointRouteBuilder flags) =>
        flags.MapGet("/evaluations", HandleAsync).WithName(nameof(GetUserEvaluation));

    // `user` is the evaluation identifier: the user_id, or else the lower-cased email. The legacy
    // columns are the answers recorded before evaluation contexts were (0011); of those, answers
    // recorded before variants existed carry only the result, whose variant is on or off.
    // In the scope's environment; no row: the flag is not the project's.
    private const string Sql = """
        SELECT f.id AS flag_id, f.key AS flag_key,
               (l.results -> f.id::text ->> 'result')::boolean AS result,
               l.results -> f.id::text ->> 'reason' AS reason,
               COALESCE(l.results -> f.id::text ->> 'variant',
                        CASE (l.results -> f.id::text ->> 'result')::boolean WHEN true THEN 'on' WHEN false THEN 'off' END) AS variant,
               (l.results -> f.id::text ->> 'at')::timestamptz AS evaluated_at
          FROM feature_flags f
          LEFT JOIN evaluation_latest l ON l.environment_id = @EnvironmentId AND l.identifier = @User
         WHERE f.id = @FlagId AND f.project_id = @ProjectId
        """;

    // The identifier's last evaluation of every flag, and its last evaluation of this flag alone.
    private const string ContextsSql = """
        SELECT version, context::text AS context, evaluated_at
          FROM evaluation_contexts
         WHERE environment_id = @EnvironmentId AND identifier = @User
           AND flag_id IN ('00000000-0000-0000-0000-000000000000', @FlagId)
         ORDER BY evaluated_at DESC
        """;

    internal static async Task<Results<Ok<UserEvaluationResponse>, NotFound, ProblemHttpResult, ValidationProblem>> HandleAsync(
        ProjectScope scope, PathId flagId, string? user, NpgsqlDataSource db, ConfigurationVersions versions, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var identifier = errors.Text("user", user, 1, 1024, required: true);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(Sql, new
        {
            scope.ProjectId, FlagId = flagId.Value, scope.EnvironmentId, User = identifier,
        }, cancellationToken: ct));
        if (row is null)
        {
            return TypedResults.NotFound();
        }

        var contexts = await connection.QueryAsync<ContextRow>(new CommandDefinition(ContextsSql,
            new { scope.EnvironmentId, User = identifier, FlagId = flagId.Value }, cancellationToken: ct));
        foreach (var recorded in contexts)
        {
            // A version from before the flag existed did not evaluate it: the older row may have.
            if (await versions.GetAsync(scope.EnvironmentId, recorded.Version) is { } version
                && Array.IndexOf(version.FlagIds, row.FlagId) is var index and >= 0)
            {
                var (enabled, reason, variant) = Evaluate(version, index, recorded.Context);
                return TypedResults.Ok(new UserEvaluationResponse(row.FlagId, row.FlagKey, identifier!, enabled, reason, variant,
                    DateTime.SpecifyKind(recorded.EvaluatedAt, DateTimeKind.Utc), scope.Environment.Key));
            }
        }

        if (row.Result is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not evaluated",
                detail: $"The flag has not been evaluated for '{identifier}' (or the evaluation has not been flushed yet).");
        }
        return TypedResults.Ok(new UserEvaluationResponse(row.FlagId, row.FlagKey, identifier!, row.Result.Value, row.Reason!, row.Variant!,
            DateTime.SpecifyKind(row.EvaluatedAt!.Value, DateTimeKind.Utc), scope.Environment.Key));
    }

    // The same engine and the same configuration as when the answer was served, for the same
    // context: the same answer (prerequisites included; evaluation depends on nothing else).
    private static (bool Enabled, string Reason, string Variant) Evaluate(EnvironmentSnapshot version, int index, string json)
    {
        var (context, document) = RecordedContext.Parse(json);
        using (document)
        {
            var n = version.Flags.Length;
            var outcomes = new ushort[n];
            Array.Fill(outcomes, EnvironmentSnapshot.Pending);
            var result = version.Evaluate(index, in context, Identifiers.For(in context), outcomes, new EvaluationResult[n]);
            var flag = version.Flags[index];
            return (flag.IsEnabled(result.Variant, result.Reason), result.Reason.ToWire(), flag.Variants[result.Variant]);
        }
    }
}
