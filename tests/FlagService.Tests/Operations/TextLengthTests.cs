using System.Net;
using FlagService.Infrastructure.Http;
using FlagService.Tests.Infrastructure;

namespace FlagService.Tests.Operations;

public sealed class TextLengthTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Theory]
    [InlineData("abc", 3)]
    [InlineData("👍🏽", 1)]            // emoji + skin tone: two code points, four UTF-16 units
    [InlineData("👨‍👩‍👧", 1)]          // a family: three emoji joined by ZWJ
    [InlineData("e\u0301t\u00e9", 3)]  // é as e + combining acute, then t, then é precomposed
    [InlineData("a\r\nb", 3)]
    public void Text_elements_are_what_a_person_counts(string text, int expected) =>
        TextLength.Of(text).Should().Be(expected);

    [Fact]
    public async Task A_project_name_of_255_emoji_is_accepted_and_256_is_refused()
    {
        var client = await app.AuthenticatedClientAsync();
        var name = string.Concat(Enumerable.Repeat("👍🏽", 255));

        var created = await client.PostJsonAsync("/api/projects", new { name });
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        (await created.ReadObjectAsync())["name"]!.GetValue<string>().Should().Be(name);

        await (await client.PostJsonAsync("/api/projects", new { name = name + "👍" })).ShouldBeValidationErrorAsync("name", "at most 255 characters");
    }

    [Fact]
    public async Task Flag_names_descriptions_and_rule_values_count_text_elements_too()
    {
        var scenario = await SdkScenario.CreateAsync(app);
        var description = string.Concat(Enumerable.Repeat("🇫🇷", 2000)); // a flag: two regional indicators
        var flag = await scenario.Owner.PostJsonAsync(scenario.Flags, new { name = "Flags", key = "flags", description });
        flag.StatusCode.Should().Be(HttpStatusCode.Created, await flag.Content.ReadAsStringAsync());
        var flagId = (await flag.ReadObjectAsync())["id"]!.GetValue<string>();

        var rule = await scenario.Owner.PostJsonAsync($"{scenario.Flags}/{flagId}/rules",
            new { rule_type = "user_id", rule_value = string.Concat(Enumerable.Repeat("👩🏾‍💻", 1024)) });
        rule.StatusCode.Should().Be(HttpStatusCode.Created, await rule.Content.ReadAsStringAsync());
    }
}
