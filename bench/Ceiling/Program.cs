// What Kestrel alone costs for an evaluate call: the same route, a request body read and
// discarded, a fixed answer of the real service's size. The service's requests/s divided by this
// app's is the share of the machine left to FlagService's own work.
var bodyFile = Environment.GetEnvironmentVariable("CEILING_BODY_FILE");
if (string.IsNullOrEmpty(bodyFile) || !File.Exists(bodyFile))
{
    Console.Error.WriteLine("CEILING_BODY_FILE must name a file holding the response body to send.");
    return 1;
}
var body = await File.ReadAllBytesAsync(bodyFile);

var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

app.MapPost("/sdk/v1/evaluate", async (HttpContext http) =>
{
    var reader = http.Request.BodyReader;
    while (true)
    {
        var read = await reader.ReadAsync(http.RequestAborted);
        reader.AdvanceTo(read.Buffer.End);
        if (read.IsCompleted)
        {
            break;
        }
    }

    http.Response.ContentType = "application/json; charset=utf-8";
    http.Response.ContentLength = body.Length;
    await http.Response.BodyWriter.WriteAsync(body, http.RequestAborted);
});

await app.RunAsync();
return 0;
