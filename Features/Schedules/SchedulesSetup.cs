namespace FlagService.Features.Schedules;

public static class SchedulesSetup
{
    public static WebApplicationBuilder AddSchedules(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<SchedulesOptions>()
            .BindConfiguration(SchedulesOptions.SectionName)
            .ValidateDataAnnotations();
        builder.Services.AddHostedService<ScheduleRunner>();
        return builder;
    }
}
