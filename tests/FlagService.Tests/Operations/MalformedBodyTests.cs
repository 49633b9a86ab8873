using FlagService.Features.Flags.Create;
using FlagService.Infrastructure.Http;
using FlagService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace FlagService.Tests.Operations;

// Bodies the serializer refuses: each answer names the field by its JSON path and the rule it
// breaks, found from the body and the request type, not from the serializer's message.
public sealed class MalformedBodyTests(AppFixture app) : IClassFixture<AppFixture>
{
    private const string Projects = "/api/projects";
    private const string Flags = "/api/projects/{id}/flags";
    private const string Segments = "/api/projects/{id}/segments";

    [Theory]
    [InlineData(Projects, "not json", "body", "must be valid JSON")]
    [InlineData(Projects, "<xml/>", "body", "must be valid JSON")]
    [InlineData(Projects, """{"name": "a",""", "body", "must be valid JSON")]
    [InlineData(Projects, """{"name": "a"} {}""", "body", "must be valid JSON")]
    [InlineData(Projects, """["a"]""", "body", "must be a JSON object")]
    [InlineData(Projects, "\"a\"", "body", "must be a JSON object")]
    [InlineData(Projects, """{"name": 5}""", "name", "must be a string")]
    [InlineData(Projects, """{"name": "a", "description": ["d"]}""", "description", "must be a string")]
    [InlineData(Projects, """{"name": "a", "name": "b"}""", "name", "must appear only once")]
    [InlineData(Projects, """{"name": "a", "Name": "b"}""", "name", "must appear only once")]
    [InlineData(Flags, """{"name": "n", "key": "k", "rollout_percentage": 5.5}""", "rollout_percentage", "must be an integer")]
    [InlineData(Flags, """{"name": "n", "key": "k", "enabled": "yes"}""", "enabled", "must be true or false")]
    [InlineData(Flags, """{"name": "n", "key": "k", "serve": "on"}""", "serve", "must be an object")]
    [InlineData(Flags, """{"name": "n", "key": "k", "variants": {"a": 1}}""", "variants", "must be an array")]
    [InlineData(Flags, """{"name": "n", "key": "k", "serve": {"distribution": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": "50"}]}}""",
        "serve.distribution[1].weight", "must be an integer")]
    [InlineData(Flags, """{"name": "n", "key": "k", "serve": {"variant": "a", "variant": "b"}}""", "serve.variant", "must appear only once")]
    [InlineData(Flags, """{"name": "n", "key": "k", "prerequisites": [{"flag": "f", "variant": "on"}, {"flag": 7}]}""",
        "prerequisites[1].flag", "must be a string")]
    [InlineData(Flags, """{"name": "n", "key": "k", "value_type": "json", "variants": [{"key": "a", "value": {"x": 1, "x": 2}}]}""",
        "variants[0].value.x", "must appear only once")]
    [InlineData(Segments, """{"key": "s", "name": "S", "included": ["a", 5]}""", "included[1]", "must be a string")]
    [InlineData("/api/tokens", """{"name": "ci", "project_id": "nope"}""", "project_id", "must be a UUID")]
    [InlineData("/api/tokens", """{"name": "ci", "expires_at": "tomorrow"}""", "expires_at", "must be an RFC 3339 timestamp")]
    public async Task Body_the_serializer_refuses_returns_400_naming_the_field_and_rule(string url, string body, string field, string rule)
    {
        var owner = await app.AuthenticatedClientAsync();
        var project = (await owner.CreateProjectAsync())["id"]!.GetValue<string>();

        var response = await owner.PostRawAsync(url.Replace("{id}", project, StringComparison.Ordinal), body);

        await response.ShouldBeValidationErrorAsync(field, rule);
        var problem = await response.ShouldBeProblemAsync(400);
        problem["errors"]!.AsObject().Should().HaveCount(1);
        problem["detail"]!.GetValue<string>().Should().Contain(field == "body" ? "request body" : field);
    }

    [Fact]
    public async Task Body_that_is_not_json_says_where_it_stops()
    {
        var owner = await app.AuthenticatedClientAsync();

        var problem = await (await owner.PostRawAsync(Projects, "{\n  \"name\": nope\n}")).ShouldBeProblemAsync(400);

        problem["detail"]!.GetValue<string>().Should().StartWith("The request body is not valid JSON (line 2, byte ");
    }

    [Fact]
    public async Task Empty_body_returns_400_body_is_required()
    {
        var owner = await app.AuthenticatedClientAsync();
        await (await owner.PostRawAsync(Projects, "")).ShouldBeValidationErrorAsync("body", "is required");
    }

    [Fact]
    public async Task Body_over_the_limit_returns_413_and_wrong_content_type_415()
    {
        var owner = await app.AuthenticatedClientAsync();
        await (await owner.PostRawAsync(Projects, $"{{\"name\": \"{new string('n', 70 * 1024)}\"}}")).ShouldBeProblemAsync(413);
        await (await owner.PostRawAsync(Projects, "name=a", "application/x-www-form-urlencoded")).ShouldBeProblemAsync(415);
    }

    // Where the body cannot be read again (the SDK pipeline does not buffer), the serializer's
    // path and the request type's contract still name the field and the type it expected.
    [Theory]
    [InlineData("$.serve.distribution[1].weight", "serve.distribution[1].weight", "must be an integer")]
    [InlineData("$.prerequisites[0].flag", "prerequisites[0].flag", "must be a string")]
    [InlineData("$.enabled", "enabled", "must be true or false")]
    [InlineData("$", "body", "must be a JSON object")]
    public void Path_of_the_serializer_names_the_field_and_expected_type(string path, string field, string rule)
    {
        var options = app.Factory.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var problem = JsonBodyProblem.AtPath(path, options.GetTypeInfo(typeof(CreateFlag.CreateFlagRequest)));
        (problem.Field, problem.Rule).Should().Be((field, rule));
    }
}
