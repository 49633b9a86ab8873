using System.Security.Claims;
using Dapper;
using FlagService.Features.Environments;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Http;
using Npgsql;

namespace FlagService.Features.Audit;

public static class AuditResources
{
    public const string Project = "project";
    public const string Environment = "environment";
    public const string Flag = "flag";
    public const string Rule = "rule";
    public const string Segment = "segment";
    public const string Schedule = "schedule";
    public const string Member = "member";
    public const string Token = "token";
}

// Who wrote: a person (their JWT), one of their API tokens, or a schedule applied on behalf of the
// user who created it. `UserId` is whose e-mail the entry shows.
public sealed record AuditActor(string Type, Guid? Id, Guid? UserId)
{
    public static AuditActor Of(ClaimsPrincipal user) => user.TokenId() is { } token
        ? new("token", token, user.UserId())
        : new("user", user.UserId(), user.UserId());

    // The schedule is the actor's id; the e-mail is its author's.
    public static AuditActor Schedule(Guid scheduleId, Guid? createdBy) => new("schedule", scheduleId, createdBy);
}

// Records management writes in the audit log, inside the write's transaction: no change without
// its entry, no entry without its change. `before` and `after` are snapshots of the resource read
// by the SQL below, which leave out every secret (sdk/server keys, token hashes, passwords).
public static class AuditTrail
{
    // Each snapshot reads one resource by @ResourceId (a flag in environment @EnvironmentId) as jsonb.
    private const string ProjectSnapshot = """
        SELECT to_jsonb(x) FROM (SELECT p.id, p.name, p.description, p.created_at, p.updated_at
                                   FROM projects p WHERE p.id = @ResourceId) x
        """;
    private const string EnvironmentSnapshot = """
        SELECT to_jsonb(x) FROM (SELECT e.id, e.key, e.name, e.description, e.is_default, e.created_at, e.updated_at
                                   FROM environments e WHERE e.id = @ResourceId) x
        """;
    // A flag: its definition and its configuration in the environment, as FlagConfig.cs reads them.
    private const string FlagSnapshot = """
        SELECT jsonb_build_object('id', d.flag_id) || d.definition::jsonb || COALESCE(s.state::jsonb - 'version', '{}')
          FROM flag_definitions d
          LEFT JOIN flag_states s ON s.flag_id = d.flag_id AND s.environment_id = @EnvironmentId
         WHERE d.flag_id = @ResourceId
        """;
    private const string RuleSnapshot = """
        SELECT to_jsonb(x) FROM (SELECT r.id, r.flag_id, f.key AS flag_key, r.rule_type, r.rule_value, r.conditions,
                                        r.rollout_percentage, r.enabled, r.priority, r.serve
                                   FROM targeting_rules r JOIN feature_flags f ON f.id = r.flag_id WHERE r.id = @ResourceId) x
        """;
    private const string SegmentSnapshot = """
        SELECT to_jsonb(x) FROM (
            SELECT s.id, s.key, s.name, s.description, s.conditions,
                   (SELECT count(*) FROM segment_members m WHERE m.segment_id = s.id AND m.list = 'included') AS included_count,
                   (SELECT count(*) FROM segment_members m WHERE m.segment_id = s.id AND m.list = 'excluded') AS excluded_count
              FROM segments s WHERE s.id = @ResourceId) x
        """;
    private const string ScheduleSnapshot = """
        SELECT to_jsonb(x) FROM (SELECT c.id, c.flag_id, c.at, c.enabled, c.rollout_percentage, c.off_variant, c.serve,
                                        c.status, c.created_by, c.applied_at, c.failure_reason, c.cancelled_at
                                   FROM flag_schedules c WHERE c.id = @ResourceId) x
        """;
    // A membership, or a pending invitation of the e-mail @ResourceKey: the same shape, so the log
    // does not tell who has an account either.
    private const string MemberSnapshot = """
        SELECT COALESCE(
            (SELECT jsonb_build_object('email', u.email, 'role', pm.role)
               FROM project_members pm JOIN users u ON u.id = pm.user_id
              WHERE pm.project_id = @ProjectId AND (pm.user_id = @ResourceId OR lower(u.email) = lower(@ResourceKey))),
            (SELECT jsonb_build_object('email', i.email, 'role', i.role)
               FROM project_invitations i
              WHERE i.project_id = @ProjectId AND lower(i.email) = lower(@ResourceKey) AND i.accepted_at IS NULL))
        """;
    private const string TokenSnapshot = """
        SELECT to_jsonb(x) FROM (SELECT t.id, t.name, t.prefix, t.role, t.project_id, t.expires_at, t.created_at
                                   FROM api_tokens t WHERE t.id = @ResourceId) x
        """;

    private static string Snapshot(string resourceType) => resourceType switch
    {
        AuditResources.Project => ProjectSnapshot,
        AuditResources.Environment => EnvironmentSnapshot,
        AuditResources.Flag => FlagSnapshot,
        AuditResources.Rule => RuleSnapshot,
        AuditResources.Segment => SegmentSnapshot,
        AuditResources.Schedule => ScheduleSnapshot,
        AuditResources.Member => MemberSnapshot,
        AuditResources.Token => TokenSnapshot,
        _ => throw new ArgumentOutOfRangeException(nameof(resourceType), resourceType, "not an audited resource"),
    };

    // The entry, with `after` read now (null once deleted) and the key taken from the snapshots.
    private static string Insert(string snapshot) => $"""
        WITH after AS ({snapshot})
        INSERT INTO audit_log (project_id, actor_type, actor_id, actor_email, action, resource_type, resource_id, resource_key,
                               environment, before, after)
        SELECT @ProjectId, @ActorType, @ActorId, (SELECT u.email FROM users u WHERE u.id = @ActorUserId), @Action, @ResourceType,
               @ResourceId,
               COALESCE(@ResourceKey, a.doc ->> 'key', b.doc ->> 'key', a.doc ->> 'email', b.doc ->> 'email', a.doc ->> 'name', b.doc ->> 'name'),
               COALESCE(@Environment, (SELECT e.key FROM environments e WHERE e.id = @EnvironmentId)),
               b.doc, a.doc
          FROM (SELECT CAST(@Before AS jsonb) AS doc) b, (SELECT (SELECT * FROM after) AS doc) a
        """;

    private static readonly Dictionary<string, string> Inserts = new[]
    {
        AuditResources.Project, AuditResources.Environment, AuditResources.Flag, AuditResources.Rule, AuditResources.Segment,
        AuditResources.Schedule, AuditResources.Member, AuditResources.Token,
    }.ToDictionary(t => t, t => Insert(Snapshot(t)));

    // The resource as it is now, for `before`: call before the write, in its transaction.
    public static Task<string?> SnapshotAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string resourceType,
        Guid? projectId, Guid? resourceId, Guid? environmentId, CancellationToken ct, string? resourceKey = null) =>
        connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition($"SELECT CAST(({Snapshot(resourceType)}) AS text)", new
        {
            ProjectId = projectId, ResourceId = resourceId, EnvironmentId = environmentId, ResourceKey = resourceKey,
        }, transaction, cancellationToken: ct));

    public static Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AuditActor actor, Guid? projectId,
        string action, string resourceType, Guid? resourceId, CancellationToken ct,
        string? before = null, Guid? environmentId = null, string? environment = null, string? resourceKey = null) =>
        connection.ExecuteAsync(new CommandDefinition(Inserts[resourceType], new
        {
            ProjectId = projectId, ActorType = actor.Type, ActorId = actor.Id, ActorUserId = actor.UserId, Action = action,
            ResourceType = resourceType, ResourceId = resourceId, ResourceKey = resourceKey, Environment = environment,
            EnvironmentId = environmentId, Before = before,
        }, transaction, cancellationToken: ct));

    public static Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ClaimsPrincipal user, Guid? projectId,
        string action, string resourceType, Guid? resourceId, CancellationToken ct,
        string? before = null, Guid? environmentId = null, string? environment = null, string? resourceKey = null) =>
        RecordAsync(connection, transaction, AuditActor.Of(user), projectId, action, resourceType, resourceId, ct,
            before, environmentId, environment, resourceKey);
}
