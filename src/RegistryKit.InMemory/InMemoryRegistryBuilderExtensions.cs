using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RegistryKit.Registry;

namespace RegistryKit.InMemory;

/// <summary>Adds the embedded in-memory registry to a registry in the container.</summary>
public static class InMemoryRegistryBuilderExtensions
{
    /// <summary>
    /// Serves <c>memory://</c> addresses from one <see cref="InMemoryRegistryServer"/> per container, on the container's
    /// <see cref="TimeProvider"/>. Calling it again, or for several registries, uses the same server. When neither code
    /// nor configuration sets the registry's <see cref="RegistryOptions.Address"/>, it becomes <c>memory://</c>.
    /// </summary>
    /// <param name="builder">The registry.</param>
    /// <returns>The same builder.</returns>
    public static IRegistryBuilder UseInMemory(this IRegistryBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(static sp => new InMemoryRegistryServer(sp.GetRequiredService<TimeProvider>()));
        if (!builder.Services.Any(d => d.ServiceType == typeof(InMemoryDefaultAddress) && d.ImplementationInstance is InMemoryDefaultAddress a && a.RegistryName == builder.Name))
        {
            builder.Services.AddSingleton(new InMemoryDefaultAddress(builder.Name));
            builder.Services.PostConfigure<RegistryOptions>(builder.Name, static options => options.Address ??= InMemoryRegistryTransportFactory.Scheme + "://");
        }

        return builder.AddTransport<InMemoryRegistryTransportFactory>(InMemoryRegistryTransportFactory.Scheme);
    }

    /// <summary>Marks a registry whose address defaults to <c>memory://</c>, so the default is added once.</summary>
    private sealed record InMemoryDefaultAddress(string RegistryName);
}
