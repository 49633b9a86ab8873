namespace FlagService.Features.Evaluation;

public enum ConditionOperator
{
    EqualTo,
    In,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
    SemverEqual,
    SemverGreaterThan,
    SemverGreaterThanOrEqual,
    SemverLessThan,
    SemverLessThanOrEqual,
    Before,
    After,
    Exists,
}

public static class ConditionOperators
{
    // Wire names in the order the validation message lists them.
    public static IReadOnlyList<string> Names { get; } =
    [
        "equals", "in", "contains", "starts_with", "ends_with", "matches",
        "gt", "gte", "lt", "lte",
        "semver_eq", "semver_gt", "semver_gte", "semver_lt", "semver_lte",
        "before", "after", "exists",
    ];

    public static bool TryParse(string? name, out ConditionOperator op)
    {
        // Names and enum members are declared in the same order.
        for (var i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], name, StringComparison.Ordinal))
            {
                op = (ConditionOperator)i;
                return true;
            }
        }

        op = default;
        return false;
    }

    public static string ToWire(this ConditionOperator op) => Names[(int)op];

    // Ordering operators compare against one bound; several values would be ambiguous.
    public static bool TakesSingleValue(this ConditionOperator op) =>
        op is ConditionOperator.GreaterThan or ConditionOperator.GreaterThanOrEqual
            or ConditionOperator.LessThan or ConditionOperator.LessThanOrEqual
            or ConditionOperator.SemverGreaterThan or ConditionOperator.SemverGreaterThanOrEqual
            or ConditionOperator.SemverLessThan or ConditionOperator.SemverLessThanOrEqual
            or ConditionOperator.Before or ConditionOperator.After;
}
