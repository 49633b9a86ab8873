namespace FlagService.Features.Evaluation;

public static class RuleTypes
{
    public const string UserId = "user_id";
    public const string UserEmail = "user_email";
    public const string EmailDomain = "email_domain";
    public const string AttributeMatch = "attribute_match";
    public const string Segment = "segment";

    public static IReadOnlyList<string> All { get; } = [UserId, UserEmail, EmailDomain, AttributeMatch, Segment];
}
