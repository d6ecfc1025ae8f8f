using RegistryKit.InMemory;
using RegistryKit.Transport;

namespace RegistryKit.Samples.Quickstart;

/// <summary>The embedded in-memory registry. Its outage: unreachable for a while, then back with its state lost.</summary>
internal sealed class InMemoryQuickstartRegistry(TimeProvider time) : IQuickstartRegistry
{
    private readonly InMemoryRegistryServer _server = new(time);

    public ServiceUrl Address { get; } = ServiceUrl.Parse("memory:///quickstart?application=quickstart");

    public IReadOnlyList<KeyValuePair<string, IRegistryTransportFactory>> Transports =>
        [new(InMemoryRegistryTransportFactory.Scheme, new InMemoryRegistryTransportFactory(_server))];

    public TimeSpan OutageFor(QuickstartTimings timings) => timings.Outage;

    public string BeginOutage(TimeSpan outage)
    {
        _server.Restart(loseState: true);
        _server.Faults.MakeUnreachable(outage);
        return $"registry down for {outage.TotalSeconds:0.#} s and restarted empty";
    }

    public ValueTask<int> CountProvidersAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(_server.GetEntries().Count(e => e.Key.Contains("/providers/", StringComparison.Ordinal)));

    public ValueTask DisposeAsync()
    {
        _server.Dispose();
        return ValueTask.CompletedTask;
    }
}
