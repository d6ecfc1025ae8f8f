using RegistryKit.InMemory;
using RegistryKit.Transport;

namespace RegistryKit.Simulation.Tests;

/// <summary>Makes one simulated client's <see cref="ChaosTransport"/> in front of the shared in-memory registry.</summary>
internal sealed class ChaosTransportFactory(InMemoryRegistryServer server, int client, FaultPlan plan, TimeProvider time, CallTracker calls) : IRegistryTransportFactory
{
    private readonly InMemoryRegistryTransportFactory _inner = new(server);

    /// <summary>Gets the transport the client's registry uses, once it has one.</summary>
    public ChaosTransport? Transport { get; private set; }

    public IRegistryTransport CreateTransport(ServiceUrl registryUrl)
    {
        var transport = new ChaosTransport(_inner.CreateTransport(registryUrl), client, plan, time, calls);
        Transport = transport;
        return transport;
    }
}
