using Microsoft.Extensions.DependencyInjection;

namespace RegistryKit;

/// <summary>
/// One registry in the container, as <see cref="RegistryServiceCollectionExtensions.AddRegistry(IServiceCollection, string, Action{Registry.RegistryOptions}?)"/>
/// returns it, so that transports chain: <c>services.AddRegistry().UseInMemory()</c>.
/// </summary>
public interface IRegistryBuilder
{
    /// <summary>Gets the services the registry is added to.</summary>
    IServiceCollection Services { get; }

    /// <summary>Gets the registry's name: its options name and its service key; <see cref="Microsoft.Extensions.Options.Options.DefaultName"/> for the default registry.</summary>
    string Name { get; }
}
