using FlagService.Features.Audit;
using FlagService.Features.Auth;
using FlagService.Features.Environments;
using FlagService.Features.Evaluation;
using FlagService.Features.Analytics;
using FlagService.Features.Flags;
using FlagService.Features.Rules;
using FlagService.Features.Segments;
using FlagService.Features.Sdk;
using FlagService.Features.Health;
using FlagService.Features.Members;
using FlagService.Features.Ofrep;
using FlagService.Features.Projects;
using FlagService.Features.Schedules;
using FlagService.Features.Tokens;
using FlagService.Infrastructure;
using FlagService.Infrastructure.Auth;
using FlagService.Infrastructure.Database;
using FlagService.Infrastructure.Http;
using FlagService.Infrastructure.Mail;
using FlagService.Infrastructure.Observability;

// The slim builder leaves out what this service never uses (IIS integration, HTTPS and HTTP/3 in
// Kestrel: TLS ends at the proxy; hosting startup assemblies; regex route constraints) and with it
// the assemblies they load: configuration, logging and Kestrel over HTTP are the same.
var builder = WebApplication.CreateSlimBuilder(args);

builder.AddLegacyEnvironmentVariables();
builder.AddDatabase();
builder.AddJwtAuthentication();
builder.AddMail();
builder.AddHttpConventions();
builder.AddRateLimits();
builder.AddApiDocumentation();
builder.AddEvaluation();
builder.AddSchedules();
builder.AddMetrics();
builder.AddHealthProbes();
builder.AddTrustedProxies();
builder.AddStructuredLogging();

var app = builder.Build();

app.UseTrustedProxies();
app.UseRequestLogging();
app.UseMetricsGuard();
app.UseSdkPipeline();
app.UseHttpConventions();
app.UseAccessControl();
app.MapApiDocumentation();

app.MapHealth();
app.MapHealthProbes();
app.MapMetrics();
app.MapAuth();
app.MapProjects();
app.MapEnvironments();
app.MapMembers();
app.MapTokens();
app.MapAudit();
app.MapFlags();
app.MapRules();
app.MapSegments();
app.MapSdk();
app.MapOfrep();
app.MapAnalytics();
app.MapSchedules();
app.MapAdminUi();

return await app.RunWithMigrationsAsync();

public partial class Program;
