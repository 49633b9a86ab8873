using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace FlagService.Infrastructure.Http;

// Turns the framework's binding failures into problem details that name the field and the rule,
// from what the exceptions carry as types and values (status codes, JsonException's path and
// position, the endpoint's request type), never from their message text.
internal sealed class BadRequestHandler(IProblemDetailsService problems, IOptions<JsonOptions> json) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        if (exception is InvalidRouteValueException route)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            var invalid = Validation(new JsonBodyProblem(route.Name, route.Rule, $"The route value '{route.Name}' {route.Rule}."));
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
            _ => await DescribeAsync(context, bad, ct),
        };
        problem.Status = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    private async Task<ProblemDetails> DescribeAsync(HttpContext context, BadHttpRequestException bad, CancellationToken ct)
    {
        var bodyType = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        if (bad.InnerException is JsonException error)
        {
            var type = bodyType is null ? null : json.Value.SerializerOptions.GetTypeInfo(bodyType);
            return Validation(await ReadAgainAsync(context.Request, ct) is { } body && type is not null
                ? JsonBodyProblem.Find(body, type) ?? Fallback(error, type)
                : Fallback(error, type));
        }
        if (HasNoBody(context.Request) && bodyType is not null)
        {
            return Validation(new JsonBodyProblem("body", "is required", "A JSON body is required."));
        }
        return new ProblemDetails { Title = "Bad request", Detail = bad.Message };
    }

    // Without the body (not buffered): a syntax error is the reader's own exception inside the
    // serializer's; anything else is placed by the serializer's path.
    private static JsonBodyProblem Fallback(JsonException error, System.Text.Json.Serialization.Metadata.JsonTypeInfo? type) =>
        error.InnerException is JsonException syntax
            ? JsonBodyProblem.NotJson(syntax.LineNumber ?? 0, syntax.BytePositionInLine ?? 0)
            : JsonBodyProblem.AtPath(error.Path, type);

    // The management pipeline buffers JSON bodies (HttpConventions.BufferJsonBody), so the body the
    // serializer refused can be read again from the start.
    private static async Task<byte[]?> ReadAgainAsync(HttpRequest request, CancellationToken ct)
    {
        if (!request.Body.CanSeek)
        {
            return null;
        }
        request.Body.Position = 0;
        using var copy = new MemoryStream();
        await request.Body.CopyToAsync(copy, ct);
        return copy.ToArray();
    }

    // Whether the request came without a body, read from the request itself rather than from how
    // the framework words its complaint.
    private static bool HasNoBody(HttpRequest request) =>
        request.ContentLength == 0 || (request.ContentLength is null && !request.Headers.TransferEncoding.Any(v => v?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true));

    private static HttpValidationProblemDetails Validation(JsonBodyProblem problem) =>
        new(new FieldErrors().Add(problem.Field, problem.Rule).ToDictionary())
        {
            Title = "One or more validation errors occurred.",
            Detail = problem.Detail,
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
