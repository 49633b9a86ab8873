using Dapper;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Auth.Register;

public static class Register
{
    public sealed record RegisterRequest(string? Email, string? Password);
    public sealed record RegisterResponse(Guid Id, string Email);

    public static RouteHandlerBuilder MapRegister(this IEndpointRouteBuilder auth) =>
        auth.MapPost("/register", HandleAsync).WithName(nameof(Register));

    // The unique index on lower(email) decides duplicates, also under concurrent registrations.
    // Registering grants nothing: nobody proves here that they own the address, so invitations to it
    // wait for their e-mailed link (Members/AcceptInvitation).
    private const string Sql = """
        INSERT INTO users (email, password_hash) VALUES (@Email, @PasswordHash)
        RETURNING id, email
        """;

    internal static async Task<Results<Created<RegisterResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        RegisterRequest request, NpgsqlDataSource db, PasswordHasher hasher, CancellationToken ct)
    {
        var errors = Validate(request, out var email);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var hash = hasher.Hash(request.Password!);
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var user = await connection.QuerySingleAsync<RegisterResponse>(
                new CommandDefinition(Sql, new { Email = email, PasswordHash = hash }, cancellationToken: ct));
            return TypedResults.Created($"/api/me", user);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Email already registered",
                detail: "An account with this email already exists.",
                extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["email"] = ["is already registered"] } });
        }
    }

    internal static FieldErrors Validate(RegisterRequest request, out string email)
    {
        var errors = new FieldErrors();
        email = errors.Text("email", request.Email, 1, EmailAddress.MaxLength, required: true) ?? "";
        if (!errors.Any && !EmailAddress.LooksValid(email))
        {
            errors.Add("email", "must look like local@domain.tld");
        }

        if (request.Password is null)
        {
            errors.Add("password", "is required");
        }
        else if (TextLength.Of(request.Password) is < 8 or > 1024)
        {
            errors.Add("password", "must be 8 to 1024 characters");
        }
        return errors;
    }
}
