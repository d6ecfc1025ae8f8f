using RegistryKit.Transport;

namespace RegistryKit.Registry;

/// <summary>
/// A transport added to a registry in the container: which registry, which scheme, how to make the factory, and what
/// makes two additions the same one (the instance given, or the factory type the container creates).
/// </summary>
internal sealed record RegistryTransportRegistration(string RegistryName, string Scheme, Type FactoryType, object? Instance, Func<IServiceProvider, IRegistryTransportFactory> Create)
{
    /// <summary>Whether <paramref name="other"/> adds the same transport (so adding it again is harmless).</summary>
    public bool IsSameAs(RegistryTransportRegistration other) =>
        Instance is null && other.Instance is null ? FactoryType == other.FactoryType : ReferenceEquals(Instance, other.Instance);
}

/// <summary>Marks a registry added with <c>AddRegistry</c>, by name: what the duplicate check and start-up validation look for.</summary>
internal sealed record RegistryName(string Name);
