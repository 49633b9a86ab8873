using System.Globalization;
using System.Text.Json;
using Dapper;
using FlagService.Features.Projects;
using FlagService.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace FlagService.Features.Audit.List;

public static class ListAudit
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public sealed record ActorResponse(string Type, Guid? Id, string? Email);

    public sealed record EntryResponse(
        long Id, DateTime At, ActorResponse Actor, string Action, string ResourceType, Guid? ResourceId, string? ResourceKey,
        string? Environment, JsonElement? Before, JsonElement? After);

    public sealed record PageResponse(EntryResponse[] Items, string? NextCursor);

    private sealed record Row(
        long Id, DateTime At, string ActorType, Guid? ActorId, string? ActorEmail, string Action, string ResourceType, Guid? ResourceId,
        string? ResourceKey, string? Environment, string? Before, string? After)
    {
        public EntryResponse ToResponse() => new(Id, At, new ActorResponse(ActorType, ActorId, ActorEmail), Action, ResourceType, ResourceId,
            ResourceKey, Environment, Parse(Before), Parse(After));

        private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
    }

    public static RouteHandlerBuilder MapListAudit(this RouteGroupBuilder audit) =>
        audit.MapGet("/", HandleAsync).WithName(nameof(ListAudit));

    // Newest first by id (ids grow with commits' inserts); the cursor is the last id of a page and
    // one row more than the limit tells whether there is a next page.
    private const string Sql = """
        SELECT a.id, a.at, a.actor_type, a.actor_id, a.actor_email, a.action, a.resource_type, a.resource_id, a.resource_key,
               a.environment, a.before::text, a.after::text
          FROM audit_log a
         WHERE a.project_id = @ProjectId
           AND (CAST(@Cursor AS bigint) IS NULL OR a.id < @Cursor)
           AND (CAST(@ResourceType AS text) IS NULL OR a.resource_type = @ResourceType)
           AND (CAST(@ResourceId AS uuid) IS NULL OR a.resource_id = @ResourceId)
           AND (CAST(@ActorId AS uuid) IS NULL OR a.actor_id = @ActorId)
           AND (CAST(@ActorEmail AS text) IS NULL OR lower(a.actor_email) = lower(@ActorEmail))
           AND (CAST(@Environment AS text) IS NULL OR a.environment = @Environment)
           AND (CAST(@From AS timestamptz) IS NULL OR a.at >= @From)
           AND (CAST(@To AS timestamptz) IS NULL OR a.at < @To)
         ORDER BY a.id DESC
         LIMIT @Limit
        """;

    internal static async Task<Results<Ok<PageResponse>, ValidationProblem>> HandleAsync(
        ProjectScope scope, NpgsqlDataSource db, CancellationToken ct,
        [FromQuery(Name = "resource_type")] string? resourceType = null, [FromQuery(Name = "resource_id")] string? resourceId = null,
        string? actor = null, string? environment = null, string? from = null, string? to = null, string? limit = null, string? cursor = null)
    {
        var errors = new FieldErrors();
        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            errors.Add("limit", $"must be an integer from 1 to {MaxLimit}");
        }
        long? after = null;
        if (cursor is not null)
        {
            after = long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var c) && c > 0 ? c : null;
            if (after is null)
            {
                errors.Add("cursor", "must be a next_cursor from a previous page");
            }
        }
        Guid? resource = null;
        if (resourceId is not null)
        {
            resource = Guid.TryParse(resourceId, out var r) ? r : null;
            if (resource is null)
            {
                errors.Add("resource_id", "must be a UUID");
            }
        }
        var fromAt = Timestamp(errors, "from", from);
        var toAt = Timestamp(errors, "to", to);
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        // `actor` is an actor's id (a user, a token, a schedule) or a person's e-mail.
        var actorId = Guid.TryParse(actor, out var a) ? a : (Guid?)null;
        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(Sql, new
        {
            scope.ProjectId, Cursor = after, ResourceType = resourceType, ResourceId = resource, ActorId = actorId,
            ActorEmail = actorId is null ? actor : null, Environment = environment, From = fromAt, To = toAt, Limit = pageSize + 1,
        }, cancellationToken: ct))).ToArray();
        var page = rows.Take(pageSize).Select(r => r.ToResponse()).ToArray();
        var next = rows.Length > pageSize ? page[^1].Id.ToString(CultureInfo.InvariantCulture) : null;
        return TypedResults.Ok(new PageResponse(page, next));
    }

    private static DateTime? Timestamp(FieldErrors errors, string field, string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at.UtcDateTime;
        }
        errors.Add(field, "must be an RFC 3339 timestamp");
        return null;
    }
}
