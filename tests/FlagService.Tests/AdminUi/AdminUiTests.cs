using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.AdminUi;

// The admin UI that the build puts in wwwroot/: served at /, its hashed assets cached for good, its
// pages reached by a browser at any non-API path, and every API 404 still problem details.
public sealed partial class AdminUiTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Root_serves_the_app_revalidated_and_its_assets_cached_for_a_year()
    {
        var client = app.CreateClient();
        var index = await client.GetAsync("/");
        index.StatusCode.Should().Be(HttpStatusCode.OK);
        index.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        index.Headers.CacheControl!.NoCache.Should().BeTrue();

        var html = await index.Content.ReadAsStringAsync();
        var script = Asset().Match(html);
        script.Success.Should().BeTrue(html);
        var asset = await client.GetAsync(script.Value);
        asset.StatusCode.Should().Be(HttpStatusCode.OK);
        asset.Headers.CacheControl!.ToString().Should().Be("public, max-age=31536000, immutable");
    }

    [Theory]
    [InlineData("/projects/6a0c7e2e-5f4e-4f7a-9d59-4c1f0a3b2e11/flags")]
    [InlineData("/reset-password")]
    public async Task A_browser_navigating_to_a_page_of_the_app_gets_index_html(string path)
    {
        var response = await Navigate(path);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        (await response.Content.ReadAsStringAsync()).Should().Contain("<div id=\"root\">");
    }

    [Theory]
    [InlineData("/api/nope")]
    [InlineData("/sdk/v1/nope")]
    [InlineData("/assets/missing-0000.js")]
    public async Task Api_paths_and_missing_files_stay_404_problems(string path)
    {
        await (await app.CreateClient().GetAsync(path)).ShouldBeProblemAsync(404);
        (await Navigate(path)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_wrong_method_on_an_api_route_is_not_answered_with_the_app()
    {
        var response = await Navigate("/api/projects", HttpMethod.Delete);
        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
    }

    private Task<HttpResponseMessage> Navigate(string path, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        return app.CreateClient().SendAsync(request);
    }

    [GeneratedRegex(@"/assets/index-[A-Za-z0-9_-]+\.js")]
    private static partial Regex Asset();
}
