using Dapper;
using FlagService.Features.Audit;
using FlagService.Features.Evaluation;
using FlagService.Features.Flags;
using FlagService.Infrastructure.Http;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlagService.Features.Schedules;

// Applies due schedules. Every instance runs one; they coordinate through row locks only: a
// schedule is claimed with FOR UPDATE SKIP LOCKED, and the change and the schedule's new status
// commit in the same transaction, so each schedule is applied once, by one instance, or not at
// all (and then by the next look, here or elsewhere). Due means `at <= now()` on the database's
// clock, which every instance shares. The first look runs at start, so schedules that fell due
// while no instance was running are applied then. Between looks the runner sleeps until the
// soonest pending schedule is due, or until a change notification says a new one may be sooner:
// an idle service sends no query for it.
public sealed partial class ScheduleRunner(
    NpgsqlDataSource db, ProjectChanges changes, IOptions<SchedulesOptions> options, TimeProvider time, ILogger<ScheduleRunner> logger)
    : BackgroundService
{
    private sealed record Due(
        Guid Id, Guid FlagId, Guid EnvironmentId, Guid ProjectId, bool? Enabled, int? RolloutPercentage, string? OffVariant, string? Serve,
        Guid? CreatedBy);

    // The soonest due schedule that no other transaction holds. Its state row and its flag are
    // locked too, without waiting: a flag delete or an environment delete takes those before the
    // schedule (through the cascade), so waiting on them while holding the schedule could deadlock;
    // skipping leaves the schedule to the next poll. The flag's share lock keeps its variants as
    // they are until this transaction ends (UpdateFlag locks the flag before replacing them).
    private const string ClaimSql = """
        SELECT c.id, c.flag_id, c.environment_id, s.project_id, c.enabled, c.rollout_percentage, c.off_variant, c.serve::text AS serve,
               c.created_by
          FROM flag_schedules c
          JOIN flag_environments s ON s.environment_id = c.environment_id AND s.flag_id = c.flag_id
          JOIN feature_flags f ON f.id = c.flag_id
         WHERE c.status = 'pending' AND c.at <= now()
         ORDER BY c.at, c.created_at, c.id
         LIMIT 1
           FOR UPDATE OF c, s SKIP LOCKED
           FOR SHARE OF f SKIP LOCKED
        """;

    private const string AppliedSql = "UPDATE flag_schedules SET status = 'applied', applied_at = now() WHERE id = @Id";

    private const string FailSql = "UPDATE flag_schedules SET status = 'failed', failure_reason = @Reason WHERE id = @Id";

    // When the soonest pending schedule falls due, in seconds from now on the database's clock
    // (negative when one is due already; null when none is pending).
    private const string NextDueSql = "SELECT EXTRACT(EPOCH FROM min(at) - now())::float8 FROM flag_schedules WHERE status = 'pending'";

    // Set by any configuration change: a new schedule here or on another instance (CreateSchedule
    // notifies), or a lost and regained listener. One pending signal is enough: the wait that
    // follows reads the next due time afresh.
    private readonly System.Threading.Channels.Channel<bool> _wake = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        changes.Subscribe(_ => _wake.Writer.TryWrite(true), () => _wake.Writer.TryWrite(true));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await ApplyDueAsync(stoppingToken);
                await WaitAsync(await NextWaitAsync(stoppingToken), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // Until the soonest pending schedule is due, never longer than MaxWaitSeconds (a safety net
    // for a notification that never came). A schedule that is due but was skipped because another
    // transaction holds it is retried after RetryMilliseconds rather than at once.
    private async Task<TimeSpan> NextWaitAsync(CancellationToken ct)
    {
        var settings = options.Value;
        var longest = TimeSpan.FromSeconds(settings.MaxWaitSeconds);
        double? seconds;
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            seconds = await connection.ExecuteScalarAsync<double?>(new CommandDefinition(NextDueSql, cancellationToken: ct));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            LogPollFailed(logger, e.Message);
            return TimeSpan.FromMilliseconds(settings.RetryMilliseconds);
        }
        return seconds switch
        {
            null => longest,
            <= 0 => TimeSpan.FromMilliseconds(settings.RetryMilliseconds),
            _ => TimeSpan.FromSeconds(Math.Min(seconds.Value, longest.TotalSeconds)),
        };
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        using var timeout = new CancellationTokenSource(delay, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            await _wake.Reader.ReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The schedule's time has come.
        }
    }

    // Applies every schedule that is due now, one transaction each.
    private async Task ApplyDueAsync(CancellationToken ct)
    {
        try
        {
            while (await ApplyOneAsync(ct))
            {
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            // Nothing committed: the schedule is still pending and the next poll tries again.
            LogPollFailed(logger, e.Message);
        }
    }

    private async Task<bool> ApplyOneAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var due = await connection.QuerySingleOrDefaultAsync<Due>(new CommandDefinition(ClaimSql, transaction: transaction, cancellationToken: ct));
        if (due is null)
        {
            return false;
        }

        // Checked again against the flag as it is now (its variants may have changed since), by the
        // validator every other write of a flag's state goes through.
        var current = (await FlagConfigStore.ReadAsync(connection, transaction, due.ProjectId, due.EnvironmentId, due.FlagId, ct))!;
        var catalog = await FlagConfigStore.CatalogAsync(connection, transaction, due.ProjectId, due.EnvironmentId, ct);
        var errors = new FieldErrors();
        var config = FlagConfigInput.Apply(current.Config, current.Spec,
            ScheduledChange.Stored(due.Enabled, due.RolloutPercentage, due.OffVariant, due.Serve), catalog, errors.At("change"));
        if (config is null)
        {
            var reason = ScheduledChange.Describe(errors);
            await connection.ExecuteAsync(new CommandDefinition(FailSql, new { due.Id, Reason = reason }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
            LogFailed(logger, due.Id, reason);
            return true;
        }

        // A change the database refuses (a constraint added later, a value edited by hand) fails this
        // schedule alone: left pending, it would be first in line at every poll and hold up the rest.
        var before = await AuditTrail.SnapshotAsync(connection, transaction, AuditResources.Flag, due.ProjectId, due.FlagId, due.EnvironmentId, ct);
        await transaction.SaveAsync("apply", ct);
        try
        {
            await FlagConfigStore.WriteAsync(connection, transaction, due.ProjectId, due.EnvironmentId, due.FlagId, config, ct);
            await connection.ExecuteAsync(new CommandDefinition(AppliedSql, new { due.Id }, transaction, cancellationToken: ct));
            // The flag's change, by the schedule on behalf of the user who created it.
            await AuditTrail.RecordAsync(connection, transaction, AuditActor.Schedule(due.Id, due.CreatedBy), due.ProjectId, "flag.schedule_applied",
                AuditResources.Flag, due.FlagId, ct, before, due.EnvironmentId);
        }
        catch (PostgresException e) when (e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.SqlState.StartsWith("23", StringComparison.Ordinal))
        {
            await transaction.RollbackAsync("apply", ct);
            var reason = $"the database refused the change: {e.MessageText}";
            await connection.ExecuteAsync(new CommandDefinition(FailSql, new { due.Id, Reason = reason }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
            LogFailed(logger, due.Id, reason);
            return true;
        }
        await transaction.CommitAsync(ct);
        changes.Publish(due.ProjectId);
        LogApplied(logger, due.Id, due.FlagId, due.EnvironmentId);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schedule {ScheduleId} to flag {FlagId} in environment {EnvironmentId}")]
    private static partial void LogApplied(ILogger logger, Guid scheduleId, Guid flagId, Guid environmentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {ScheduleId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, Guid scheduleId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for due schedules failed ({Reason}); retrying shortly")]
    private static partial void LogPollFailed(ILogger logger, string reason);
}
