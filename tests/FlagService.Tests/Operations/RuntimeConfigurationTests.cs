using System.Text.Json.Nodes;
using FluentAssertions;
using Xunit;

namespace FlagService.Tests.Operations;

// The service's runtime settings as built: FlagService.csproj once named the GC setting wrongly and
// the Web SDK's default (server GC) ran instead, unnoticed.
public sealed class RuntimeConfigurationTests
{
    [Fact]
    public void The_service_runs_workstation_gc_with_background_collections()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "FlagService.runtimeconfig.json");
        File.Exists(file).Should().BeTrue("the service's runtimeconfig.json is copied next to the tests");
        var properties = JsonNode.Parse(File.ReadAllText(file))!["runtimeOptions"]!["configProperties"]!;

        properties["System.GC.Server"]?.GetValue<bool>().Should().BeFalse();
        properties["System.GC.Concurrent"]?.GetValue<bool>().Should().BeTrue();
    }
}
