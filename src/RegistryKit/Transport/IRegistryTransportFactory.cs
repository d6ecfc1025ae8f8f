namespace RegistryKit.Transport;

/// <summary>Creates the transport for a registry address. Registered with the registry factory under a URL scheme.</summary>
public interface IRegistryTransportFactory
{
    /// <summary>Creates a transport for <paramref name="registryUrl"/>.</summary>
    /// <param name="registryUrl">The registry address, such as <c>memory://</c> or <c>etcd://127.0.0.1:2379</c>.</param>
    /// <returns>The transport. It should not connect yet: the engine's first call does.</returns>
    /// <exception cref="ArgumentException">The address is not one this factory can serve; the message says why.</exception>
    IRegistryTransport CreateTransport(ServiceUrl registryUrl);
}
