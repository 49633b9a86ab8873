using System.ComponentModel.DataAnnotations;

namespace FlagService.Features.Schedules;

public sealed class SchedulesOptions
{
    public const string SectionName = "Schedules";

    // How often each instance looks for due schedules: a schedule is applied at most this long
    // (plus the time to apply it) after its `at`. One indexed query per poll.
    [Range(50, 10_000)]
    public int PollMilliseconds { get; set; } = 250;
}
