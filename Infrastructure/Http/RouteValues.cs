using System.Reflection;

namespace FlagService.Infrastructure.Http;

// A route value that is not what its route promises. Thrown by the binders below and turned into a
// 400 naming the parameter by BadRequestHandler: a typed failure, not a framework message to parse.
public sealed class InvalidRouteValueException(string name, string rule)
    : Exception($"The route value '{name}' {rule}.")
{
    public string Name { get; } = name;
    public string Rule { get; } = rule;
}

// A UUID from the route ({projectId}, {flagId}, ...). Handlers take this instead of Guid so that a
// malformed id is a 400 that says which id, however the framework words its own binding errors.
public readonly record struct PathId(Guid Value)
{
    public static ValueTask<PathId?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(parameter);
        var name = parameter.Name!;
        return TryParse(context.Request.RouteValues[name] as string, null, out var id)
            ? ValueTask.FromResult<PathId?>(id)
            : throw new InvalidRouteValueException(name, "must be a UUID");
    }

    public static bool TryParse(string? value, IFormatProvider? provider, out PathId id)
    {
        var parsed = Guid.TryParse(value, provider, out var guid);
        id = new PathId(guid);
        return parsed;
    }

    public override string ToString() => Value.ToString();
}

// Which environment a request means: the route's {env} (an environment's key or id), else the
// query's ?environment=, else the project's default environment (the v1 routes). Keys cannot be
// shaped like UUIDs, so a value is either an id or a key, never both.
public readonly record struct EnvironmentRef(Guid? Id, string? Key)
{
    public const string RouteName = "env";
    public const string QueryName = "environment";

    public static EnvironmentRef Default => default;

    public bool IsDefault => Id is null && Key is null;

    public static EnvironmentRef Parse(string? value) =>
        string.IsNullOrEmpty(value) ? Default
        : Guid.TryParse(value, out var id) ? new EnvironmentRef(id, null)
        : new EnvironmentRef(null, value);

    public static ValueTask<EnvironmentRef?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        ArgumentNullException.ThrowIfNull(context);
        TryParse(context.Request.RouteValues[RouteName] as string ?? context.Request.Query[QueryName].ToString(), null, out var env);
        return ValueTask.FromResult<EnvironmentRef?>(env);
    }

    // Any text names an environment (or none); whether it exists is the database's answer.
    public static bool TryParse(string? value, IFormatProvider? provider, out EnvironmentRef env)
    {
        env = Parse(value);
        return true;
    }

    public override string ToString() => Id?.ToString() ?? Key ?? "(default)";
}
