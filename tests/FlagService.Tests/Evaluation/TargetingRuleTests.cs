using FlagService.Features.Evaluation;
using FluentAssertions;
using Xunit;
using static FlagService.Tests.Evaluation.TestData;

namespace FlagService.Tests.Evaluation;

public sealed class TargetingRuleTests
{
    [Theory]
    [InlineData("user_42", "user_42", true)]
    [InlineData("user_42", "USER_42", false)]
    [InlineData("user_42", "user_42 ", false)]
    [InlineData("user_42", null, false)]
    [InlineData(" user_42 ", "user_42", true)]
    public void Evaluate_user_id_rule_matches_exactly(string ruleValue, string? userId, bool expected)
    {
        IsRuleMatch(Rule(RuleTypes.UserId, ruleValue), Context(userId)).Should().Be(expected);
    }

    [Theory]
    [InlineData("alice@example.com", "alice@example.com", true)]
    [InlineData("alice@example.com", "  ALICE@Example.com ", true)]
    [InlineData(" Alice@Example.COM ", "alice@example.com", true)]
    [InlineData("alice@example.com", "alice@example.co", false)]
    [InlineData("alice@example.com", "xalice@example.com", false)]
    [InlineData("alice@example.com", null, false)]
    public void Evaluate_user_email_rule_ignores_case_and_surrounding_spaces(string ruleValue, string? email, bool expected)
    {
        IsRuleMatch(Rule(RuleTypes.UserEmail, ruleValue), Context(email: email)).Should().Be(expected);
    }

    [Theory]
    [InlineData("@company.com", "jo@company.com", true)]
    [InlineData("@company.com", "jo@Company.com", true)]
    [InlineData("@Company.COM", " jo@company.com ", true)]
    [InlineData("@company.com", "jo@notcompany.com", false)]
    [InlineData("@company.com", "jo@sub.company.com", false)]
    [InlineData("@company.com", "jo@company.com.evil", false)]
    [InlineData("@company.com", "", false)]
    [InlineData("@company.com", null, false)]
    public void Evaluate_email_domain_rule_matches_the_exact_domain_ignoring_case(string ruleValue, string? email, bool expected)
    {
        IsRuleMatch(Rule(RuleTypes.EmailDomain, ruleValue), Context(email: email)).Should().Be(expected);
    }

    [Fact]
    public void Evaluate_stored_domain_without_at_sign_still_requires_whole_domain()
    {
        var rule = Rule(RuleTypes.EmailDomain, "company.com");

        IsRuleMatch(rule, Context(email: "jo@company.com")).Should().BeTrue();
        IsRuleMatch(rule, Context(email: "jo@notcompany.com")).Should().BeFalse();
    }

    [Theory]
    [InlineData("user_1", "a@b.com", "user_1")]
    [InlineData(null, "  Alice@Example.COM ", "alice@example.com")]
    [InlineData("", "Bob@Example.com", "bob@example.com")]
    [InlineData(null, "   ", null)]
    [InlineData("", "", null)]
    [InlineData(null, null, null)]
    public void For_context_returns_user_id_else_normalised_email_else_null(string? userId, string? email, string? expected)
    {
        var context = Context(userId, email);

        Identifiers.For(in context).Should().Be(expected);
    }

    private static bool IsRuleMatch(RuleDefinition rule, EvaluationContext context) =>
        Evaluate(Flag(rollout: 0, rule), context).Reason == EvaluationReason.RuleMatch;
}
