using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace FlagService.Infrastructure.Http;

// Turns the framework's binding failures into problem details that name the field and the rule.
internal sealed partial class BadRequestHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        if (exception is InvalidRouteValueException route)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            var invalid = Validation($"The route value '{route.Name}' {route.Rule}.", route.Name, route.Rule);
            invalid.Status = StatusCodes.Status400BadRequest;
            return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = invalid });
        }
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        context.Response.StatusCode = bad.StatusCode;
        var problem = bad.StatusCode switch
        {
            StatusCodes.Status413PayloadTooLarge => new ProblemDetails
            {
                Title = "Request body too large",
                Detail = "The request body is over the size limit.",
            },
            StatusCodes.Status415UnsupportedMediaType => new ProblemDetails
            {
                Title = "Unsupported media type",
                Detail = HttpConventions.UnsupportedMediaTypeDetail,
            },
            _ => Describe(bad, context.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType,
                HasNoBody(context.Request)),
        };
        problem.Status = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    // Whether the request came without a body, read from the request itself rather than from how
    // the framework words its complaint.
    private static bool HasNoBody(HttpRequest request) =>
        request.ContentLength == 0 || (request.ContentLength is null && !request.Headers.TransferEncoding.Any(v => v?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true));

    internal static ProblemDetails Describe(BadHttpRequestException bad, Type? bodyType, bool noBody)
    {
        if (bad.InnerException is JsonException json)
        {
            if (DuplicateProperty().Match(json.Message) is { Success: true } duplicate)
            {
                var name = JsonField(json.Path) is { } at && !at.EndsWith(duplicate.Groups[1].Value, StringComparison.Ordinal)
                    ? $"{at}.{duplicate.Groups[1].Value}" : JsonField(json.Path) ?? duplicate.Groups[1].Value;
                return Validation($"The property '{name}' appears more than once in the request body.", name, "must appear only once");
            }
            var field = JsonField(json.Path);
            // A syntax error comes wrapped around the reader's own JsonException; a type mismatch does not.
            if (json.InnerException is JsonException syntax)
            {
                var reason = syntax.Message.Split(" LineNumber:")[0];
                return Validation($"The request body is not valid JSON: {reason}", "body", "must be valid JSON");
            }
            if (field is null)
            {
                return Validation("The request body must be a JSON object.", "body", "must be a JSON object");
            }
            var rule = $"must be {Describe(ExpectedType(bodyType, field))}";
            return Validation($"The field '{field}' {rule}.", field, rule);
        }

        if (noBody && bodyType is not null)
        {
            return Validation("A JSON body is required.", "body", "is required");
        }

        return new ProblemDetails { Title = "Bad request", Detail = bad.Message };
    }

    // System.Text.Json's wording when AllowDuplicateProperties is off; the name is the JSON one.
    [System.Text.RegularExpressions.GeneratedRegex("^Duplicate property '([^']*)'")]
    private static partial System.Text.RegularExpressions.Regex DuplicateProperty();

    private static HttpValidationProblemDetails Validation(string detail, string field, string rule) =>
        new(new Dictionary<string, string[]> { [field] = [rule] })
        {
            Title = "One or more validation errors occurred.",
            Detail = detail,
        };

    private static string? JsonField(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return null;
        }
        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    // Follows a JSON path such as "conditions[0].values" through the request type's properties.
    // (System.Text.Json names the declaring record, not the property type, when a constructor
    // parameter fails to convert, so the message alone cannot say what was expected.)
    private static Type? ExpectedType(Type? type, string path)
    {
        foreach (var segment in path.Split('.'))
        {
            if (type is null)
            {
                return null;
            }
            var name = segment.Split('[')[0];
            var property = type.GetProperties().FirstOrDefault(p =>
                JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name) == name || p.Name == name);
            type = property?.PropertyType;
            for (var depth = segment.Count(c => c == '['); type is not null && depth > 0; depth--)
            {
                type = ElementType(type);
            }
        }
        return type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType ? type.GetGenericArguments()[^1]
        : null;

    private static string Describe(Type? type) => type switch
    {
        null => "a value of the expected type",
        _ when type == typeof(string) => "a string",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "an integer",
        _ when type == typeof(double) || type == typeof(decimal) => "a number",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(Guid) => "a UUID",
        _ when type == typeof(DateTime) || type == typeof(DateTimeOffset) => "an RFC 3339 timestamp",
        _ when type.IsArray || (type.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(type)
                                && !type.Name.Contains("Dictionary", StringComparison.Ordinal)) => "an array",
        _ => "an object",
    };
}

// A real fault: logged with the request's trace id, which the body also carries, and nothing else.
internal sealed partial class UnexpectedErrorHandler(IProblemDetailsService problems, ILogger<UnexpectedErrorHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var correlationId = System.Diagnostics.Activity.Current?.Id ?? context.TraceIdentifier;
        LogFault(logger, exception, context.Request.Method, context.Request.Path, correlationId);

        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status500InternalServerError,
            Title = "An unexpected error occurred",
            Detail = $"The error was logged with correlation id {correlationId}.",
            Extensions = { ["correlation_id"] = correlationId },
        };
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path} (correlation id {CorrelationId})")]
    private static partial void LogFault(ILogger logger, Exception exception, string method, string path, string correlationId);
}
