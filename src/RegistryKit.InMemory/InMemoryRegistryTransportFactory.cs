using RegistryKit.Transport;

namespace RegistryKit.InMemory;

/// <summary>Creates <c>memory://</c> transports that all talk to one <see cref="InMemoryRegistryServer"/>.</summary>
public sealed class InMemoryRegistryTransportFactory : IRegistryTransportFactory
{
    /// <summary>The URL scheme of the in-memory registry.</summary>
    public const string Scheme = "memory";

    /// <summary>Creates a factory for <paramref name="server"/>.</summary>
    /// <param name="server">The server every transport of this factory talks to.</param>
    public InMemoryRegistryTransportFactory(InMemoryRegistryServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
    }

    /// <summary>Gets the server.</summary>
    public InMemoryRegistryServer Server { get; }

    /// <inheritdoc/>
    public IRegistryTransport CreateTransport(ServiceUrl registryUrl)
    {
        ArgumentNullException.ThrowIfNull(registryUrl);
        if (registryUrl.Protocol != Scheme)
        {
            throw new ArgumentException(
                $"The registry address '{registryUrl}' is not a memory:// address. Use a form such as 'memory://' or 'memory:///my-root'.",
                nameof(registryUrl));
        }

        return new InMemoryRegistryTransport(Server, registryUrl);
    }
}
