using FlagService.Features.Analytics;
using FlagService.Features.Sdk.Stream;

namespace FlagService.Features.Evaluation;

public static class EvaluationSetup
{
    public static WebApplicationBuilder AddEvaluation(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<AnalyticsOptions>()
            .BindConfiguration(AnalyticsOptions.SectionName)
            .ValidateDataAnnotations();
        builder.Services.AddSingleton<ProjectChanges>();
        builder.Services.AddSingleton<EvaluationRecorder>();
        builder.Services.AddSingleton<SnapshotLoader>();
        builder.Services.AddSingleton<SnapshotStore>();
        builder.Services.AddOptionsWithValidateOnStart<StreamOptions>()
            .BindConfiguration(StreamOptions.SectionName)
            .ValidateDataAnnotations();
        builder.Services.AddSingleton<StreamHub>();
        builder.Services.AddSingleton<ConfigurationListener>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ConfigurationListener>());
        builder.Services.AddSingleton<AnalyticsFlusher>();
        builder.Services.AddSingleton<Analytics.Evaluations.ConfigurationVersions>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AnalyticsFlusher>());
        builder.Services.AddOptionsWithValidateOnStart<RetentionOptions>()
            .BindConfiguration(RetentionOptions.SectionName)
            .ValidateDataAnnotations();
        builder.Services.AddSingleton<CountsRetention>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CountsRetention>());
        return builder;
    }
}
