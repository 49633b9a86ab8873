using System.Text.Json;

namespace FlagService.Features.Evaluation;

internal abstract class CompiledRule(Guid id, CompiledServe serve)
{
    public Guid Id { get; } = id;

    // What the rule serves when it matches.
    public CompiledServe Serve { get; } = serve;

    // identifier is Identifiers.For(context), computed once per request.
    public abstract bool Matches(in EvaluationContext context, string? identifier);

    // Total by design: a rule row the engine cannot understand never matches rather than failing the
    // whole project's snapshot (write-time validation keeps such rows out in the first place).
    // slots: the compiling snapshot's attribute slot table.
    public static CompiledRule Compile(RuleDefinition rule, CompiledServe rollout, IReadOnlyDictionary<string, CompiledSegment> segments,
        AttributeSlots slots)
    {
        var value = rule.RuleValue?.Trim();
        return rule.RuleType switch
        {
            RuleTypes.UserId when !string.IsNullOrEmpty(value) => new UserIdRule(rule.Id, rollout, value),
            RuleTypes.UserEmail when !string.IsNullOrEmpty(value) =>
                new UserEmailRule(rule.Id, rollout, value.ToLowerInvariant()),
            RuleTypes.EmailDomain when !string.IsNullOrEmpty(value) && value != "@" =>
                new EmailDomainRule(rule.Id, rollout, DomainSuffix(value)),
            RuleTypes.AttributeMatch => CompileAttributeRule(rule.Id, rollout, rule.ConditionsJson, slots),
            // A rule naming a segment that is gone (validation refuses unknown keys) matches no one.
            RuleTypes.Segment when value is not null && segments.TryGetValue(value, out var segment) =>
                new SegmentRule(rule.Id, rollout, segment),
            _ => new NeverRule(rule.Id, rollout),
        };
    }

    // The suffix always starts with '@', so "@company.com" cannot match "jo@notcompany.com".
    private static string DomainSuffix(string value)
    {
        var lower = value.ToLowerInvariant();
        return lower.StartsWith('@') ? lower : "@" + lower;
    }

    private static CompiledRule CompileAttributeRule(Guid id, CompiledServe rollout, string? conditionsJson, AttributeSlots slots)
    {
        if (string.IsNullOrWhiteSpace(conditionsJson))
        {
            return new NeverRule(id, rollout);
        }

        try
        {
            using var document = JsonDocument.Parse(conditionsJson);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() == 0)
            {
                // An AND over nothing would target everyone; an empty list is treated as broken data.
                return new NeverRule(id, rollout);
            }

            var conditions = new CompiledCondition[root.GetArrayLength()];
            var i = 0;
            foreach (var condition in root.EnumerateArray())
            {
                conditions[i++] = CompiledCondition.Compile(condition, slots);
            }

            return new AttributeRule(id, rollout, conditions);
        }
        catch (JsonException)
        {
            return new NeverRule(id, rollout);
        }
    }

    private sealed class UserIdRule(Guid id, CompiledServe rollout, string userId) : CompiledRule(id, rollout)
    {
        public override bool Matches(in EvaluationContext context, string? identifier) =>
            string.Equals(context.UserId, userId, StringComparison.Ordinal);
    }

    // Trimming a span allocates nothing; the rule side was trimmed and lower-cased once at compile.
    private sealed class UserEmailRule(Guid id, CompiledServe rollout, string email) : CompiledRule(id, rollout)
    {
        public override bool Matches(in EvaluationContext context, string? identifier) =>
            context.UserEmail.AsSpan().Trim().Equals(email, StringComparison.OrdinalIgnoreCase);
    }

    private sealed class EmailDomainRule(Guid id, CompiledServe rollout, string suffix) : CompiledRule(id, rollout)
    {
        public override bool Matches(in EvaluationContext context, string? identifier) =>
            context.UserEmail.AsSpan().Trim().EndsWith(suffix, StringComparison.OrdinalIgnoreCase);
    }

    private sealed class AttributeRule(Guid id, CompiledServe rollout, CompiledCondition[] conditions) : CompiledRule(id, rollout)
    {
        public override bool Matches(in EvaluationContext context, string? identifier)
        {
            foreach (var condition in conditions)
            {
                if (!condition.Matches(in context))
                {
                    return false;
                }
            }

            return true;
        }
    }

    private sealed class SegmentRule(Guid id, CompiledServe rollout, CompiledSegment segment) : CompiledRule(id, rollout)
    {
        public override bool Matches(in EvaluationContext context, string? identifier) => segment.Contains(in context, identifier);
    }

    private sealed class NeverRule(Guid id, CompiledServe rollout) : CompiledRule(id, rollout)
    {
        public override bool Matches(in EvaluationContext context, string? identifier) => false;
    }
}
