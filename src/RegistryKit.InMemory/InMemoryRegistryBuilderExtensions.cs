using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RegistryKit.InMemory;

/// <summary>Adds the embedded in-memory registry to a registry in the container.</summary>
public static class InMemoryRegistryBuilderExtensions
{
    /// <summary>
    /// Serves <c>memory://</c> addresses from one <see cref="InMemoryRegistryServer"/> per container, on the container's
    /// <see cref="TimeProvider"/>. Calling it again, or for several registries, uses the same server.
    /// </summary>
    /// <param name="builder">The registry.</param>
    /// <returns>The same builder.</returns>
    public static IRegistryBuilder UseInMemory(this IRegistryBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(static sp => new InMemoryRegistryServer(sp.GetRequiredService<TimeProvider>()));
        return builder.AddTransport<InMemoryRegistryTransportFactory>(InMemoryRegistryTransportFactory.Scheme);
    }
}
