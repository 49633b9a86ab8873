using System.Net.Http.Headers;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Sdk;

// /sdk and /ofrep run their own pipeline (SdkPipeline); what the management pipeline's middleware
// gives every route must still hold there.
public sealed class SdkPipelineTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Theory]
    [InlineData("/sdk")]
    [InlineData("/sdk/v1/nope")]
    [InlineData("/ofrep/v1/nope")]
    public async Task Unknown_routes_are_404_problem_details(string path)
    {
        var problem = await (await app.CreateClient().GetAsync(path)).ShouldBeProblemAsync(404);
        problem["title"]!.GetValue<string>().Should().Be("Not Found");
    }

    [Fact]
    public async Task A_wrong_method_is_405_problem_details_naming_the_allowed_ones()
    {
        var client = app.CreateClient();
        var evaluate = await client.GetAsync("/sdk/v1/evaluate");
        await evaluate.ShouldBeProblemAsync(405);
        evaluate.Content.Headers.Allow.Should().Contain("POST");

        var ofrep = await client.DeleteAsync("/ofrep/v1/evaluate/flags");
        await ofrep.ShouldBeProblemAsync(405);
    }

    [Fact]
    public async Task Malformed_bodies_and_wrong_media_types_are_problem_details()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-SDK-Key", sdk.SdkKey);
        client.DefaultRequestHeaders.Add("X-API-Key", sdk.SdkKey);

        await (await client.PostRawAsync("/sdk/v1/evaluate", "{\"user_id\": ")).ShouldBeProblemAsync(400);
        await (await client.PostRawAsync("/sdk/v1/evaluate", "{}", "text/plain")).ShouldBeProblemAsync(415);
        await (await client.PostRawAsync("/ofrep/v1/evaluate/flags", "{\"context\": ")).ShouldBeProblemAsync(400);
    }

    // X-SDK-Key is the key; an Authorization header beside it (a browser's session, a proxy's
    // token) is not taken for one.
    [Fact]
    public async Task The_sdk_key_header_wins_over_an_authorization_header()
    {
        var sdk = await SdkScenario.CreateAsync(app);
        await sdk.CreateFlagAsync("on", rollout: 100);
        var client = app.CreateClient();
        // The owner's own JWT, and one that is not a JWT at all.
        foreach (var bearer in new[] { sdk.Owner.DefaultRequestHeaders.Authorization!.Parameter!, "not-a-jwt" })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/sdk/v1/evaluate") { Content = new StringContent("{}", null, "application/json") };
            request.Headers.Add("X-SDK-Key", sdk.SdkKey);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            var response = await client.SendAsync(request);
            response.EnsureSuccessStatusCode();
            (await response.ReadObjectAsync())["on"]!["enabled"]!.GetValue<bool>().Should().BeTrue();
        }
    }

    [Fact]
    public async Task The_management_api_keeps_its_own_pipeline()
    {
        var client = app.CreateClient();
        await (await client.GetAsync("/api/projects")).ShouldBeProblemAsync(401);
        await (await client.GetAsync("/api/nope")).ShouldBeProblemAsync(404);
        await (await client.DeleteAsync("/auth/login")).ShouldBeProblemAsync(405);
    }
}
