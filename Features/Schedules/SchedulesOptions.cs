using System.ComponentModel.DataAnnotations;

namespace FlagService.Features.Schedules;

public sealed class SchedulesOptions
{
    public const string SectionName = "Schedules";

    // How soon a due schedule that another transaction held (or a failed look) is tried again.
    [Range(50, 10_000)]
    public int RetryMilliseconds { get; set; } = 250;

    // The longest the runner sleeps without looking, even with nothing pending: a safety net for a
    // missed notification. A schedule is normally applied at its `at`, woken by its own timer.
    [Range(1, 3_600)]
    public int MaxWaitSeconds { get; set; } = 60;
}
