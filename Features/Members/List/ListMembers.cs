using Dapper;
using FlagService.Features.Projects;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace FlagService.Features.Members.List;

public static class ListMembers
{
    public static RouteHandlerBuilder MapListMembers(this IEndpointRouteBuilder members) =>
        members.MapGet("/", HandleAsync).WithName(nameof(ListMembers));

    private const string Sql = $"{MembersEndpoints.Select} ORDER BY pm.added_at, u.email";

    internal static async Task<Ok<MemberResponse[]>> HandleAsync(ProjectScope scope, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var members = await connection.QueryAsync<MemberResponse>(
            new CommandDefinition(Sql, new { scope.ProjectId }, cancellationToken: ct));
        return TypedResults.Ok(members.ToArray());
    }
}
