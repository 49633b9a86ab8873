namespace FlagService.Tests.Infrastructure;

// Waiting for a condition instead of sleeping or timing: the test goes on the moment the condition
// holds, and a slow machine only makes it wait longer, never fail. The patience is generous because
// it is only spent when something is broken; speed claims belong to the benchmarks (bench/).
public static class Eventually
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // Polls until the condition holds or `within` (default Patience) has passed; returns whether it held.
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? Patience);
        do
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(25);
        }
        while (DateTime.UtcNow < deadline);
        return await condition();
    }

    public static Task<bool> TrueAsync(Func<bool> condition, TimeSpan? within = null) =>
        TrueAsync(() => Task.FromResult(condition()), within);
}
