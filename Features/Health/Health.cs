using FlagService.Infrastructure.Observability;
using Npgsql;

namespace FlagService.Features.Health;

public static class Health
{
    public sealed record HealthResponse(string Status, string Database);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", HandleAsync).WithName("Health").WithTags("Health").AllowAnonymous()
            .Produces<HealthResponse>(StatusCodes.Status200OK)
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    // The body shape is fixed by the contract, also for 503, so that monitors can read it.
    internal static async Task<IResult> HandleAsync(NpgsqlDataSource db, CancellationToken ct) =>
        await DatabasePing.IsReachableAsync(db, ct)
            ? TypedResults.Ok(new HealthResponse("ok", "ok"))
            : TypedResults.Json(new HealthResponse("degraded", "unreachable"), statusCode: StatusCodes.Status503ServiceUnavailable);
}
