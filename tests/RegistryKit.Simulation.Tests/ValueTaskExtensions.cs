namespace RegistryKit.Simulation.Tests;

internal static class ValueTaskExtensions
{
    /// <summary>Drops a result nobody needs.</summary>
    public static async ValueTask AsVoid<T>(this ValueTask<T> task) => await task.ConfigureAwait(false);
}
