using RegistryKit.Transport;

namespace RegistryKit.Registry;

/// <summary>A transport added to a registry in the container: which registry, which scheme, how to make the factory.</summary>
internal sealed record RegistryTransportRegistration(string RegistryName, string Scheme, Type FactoryType, Func<IServiceProvider, IRegistryTransportFactory> Create);
