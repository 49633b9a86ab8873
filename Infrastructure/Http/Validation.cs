using Microsoft.AspNetCore.Http.HttpResults;

namespace FlagService.Infrastructure.Http;

// Field errors for a 400 ValidationProblem, keyed by the JSON field name.
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors;
    private readonly string _prefix;

    public FieldErrors()
        : this(new Dictionary<string, List<string>>(StringComparer.Ordinal), "")
    {
    }

    private FieldErrors(Dictionary<string, List<string>> errors, string prefix)
    {
        _errors = errors;
        _prefix = prefix;
    }

    // The same collection, with every field named under `path` ("change", "changes[2].rules[0]"):
    // a validator written for a request's top level serves a nested document unchanged.
    public FieldErrors At(string path) => new(_errors, $"{_prefix}{path}.");

    public bool Any => _errors.Count > 0;

    // How many rules are broken so far, so a validator can tell whether its own part added any.
    public int Count => _errors.Values.Sum(rules => rules.Count);

    public FieldErrors Add(string field, string rule)
    {
        field = _prefix + field;
        if (!_errors.TryGetValue(field, out var rules))
        {
            _errors[field] = rules = [];
        }
        rules.Add(rule);
        return this;
    }

    public FieldErrors Merge(IReadOnlyDictionary<string, string[]> other)
    {
        foreach (var (field, rules) in other)
        {
            foreach (var rule in rules)
            {
                Add(field, rule);
            }
        }
        return this;
    }

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());

    // Trimmed text of min..max characters (text elements, see TextLength); required fields must be present.
    public string? Text(string field, string? value, int min, int max, bool required)
    {
        if (value is null)
        {
            if (required)
            {
                Add(field, "is required");
            }
            return null;
        }
        var trimmed = value.Trim();
        var length = TextLength.Of(trimmed);
        if (length < min)
        {
            Add(field, min == 1 ? "must not be empty" : $"must be at least {min} characters");
        }
        else if (length > max)
        {
            Add(field, $"must be at most {max} characters");
        }
        return trimmed;
    }
}

public static class Conflicts
{
    // A 409 for a key that is already taken, naming the field as a validation problem would.
    public static ProblemHttpResult KeyTaken(string title, string detail, string field = "key") =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = ["is already used in this project"] } });
}
