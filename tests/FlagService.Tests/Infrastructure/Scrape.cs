using System.Globalization;
using System.Text.RegularExpressions;

namespace FlagService.Tests.Infrastructure;

// Reads the Prometheus text format: the sum of a metric's samples whose labels include the given ones.
public static partial class Scrape
{
    public static async Task<string> MetricsAsync(this HttpClient client, string path = "/metrics")
    {
        var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        response.EnsureSuccessStatusCode();
        return body;
    }

    public static double Value(string scrape, string metric, params (string Name, string Value)[] labels)
    {
        double sum = 0;
        foreach (Match m in Sample().Matches(scrape))
        {
            if (m.Groups["name"].Value != metric)
            {
                continue;
            }
            var found = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
            if (labels.All(l => found.TryGetValue(l.Name, out var v) && v == l.Value))
            {
                sum += double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }
        return sum;
    }

    public static bool Has(string scrape, string metric) =>
        Sample().Matches(scrape).Any(m => m.Groups["name"].Value == metric);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>(?:[^""}]|""(?:[^""\\]|\\.)*"")*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [GeneratedRegex(@"(\w+)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
