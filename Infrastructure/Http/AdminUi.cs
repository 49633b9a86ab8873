namespace FlagService.Infrastructure.Http;

// The admin UI (ui/, built by Vite into wwwroot/) is static files and one more client of the API:
// it has no endpoint of its own. Assets have content-hashed names, so they are cached for good;
// index.html names the current ones, so it is revalidated on every load.
public static class AdminUi
{
    private static readonly string[] ApiPrefixes =
        ["/api", "/auth", "/sdk", "/ofrep", "/health", "/metrics", "/openapi", "/docs"];

    public static WebApplication MapAdminUi(this WebApplication app)
    {
        var index = app.Environment.WebRootFileProvider.GetFileInfo("index.html");
        if (!index.Exists)
        {
            return app;
        }

        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl =
                context.Context.Request.Path.StartsWithSegments("/assets") ? "public, max-age=31536000, immutable" : "no-cache",
        });

        // The UI's own paths (/projects/..., /reset-password) are pages of the single-page app:
        // a browser navigating to one gets index.html. Anything the routes did not match that is
        // not such a navigation (API paths, files, clients that do not ask for HTML) keeps its 404
        // problem details.
        app.Use((context, next) =>
        {
            if (context.GetEndpoint() is not null || !IsPageNavigation(context.Request))
            {
                return next(context);
            }
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-cache";
            return HttpMethods.IsHead(context.Request.Method)
                ? Task.CompletedTask
                : context.Response.SendFileAsync(index, context.RequestAborted);
        });
        return app;
    }

    internal static bool IsPageNavigation(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            return false;
        }
        var path = request.Path.Value ?? "/";
        if (path == "/")
        {
            return true;
        }
        if (ApiPrefixes.Any(p => request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase))
            || Path.HasExtension(path))
        {
            return false;
        }
        return request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));
    }
}
