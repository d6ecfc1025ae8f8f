using RegistryKit.Registry;

namespace RegistryKit.Simulation.Tests;

/// <summary>One incarnation of a simulated client process: its registry client, what it asked for, and its link.</summary>
internal sealed class SimClient(int id, int incarnation, RegistryFactory factory, ChaosTransportFactory transports)
{
    public int Id { get; } = id;

    public int Incarnation { get; } = incarnation;

    public RegistryFactory Factory { get; } = factory;

    public ChaosTransportFactory Transports { get; } = transports;

    public IRegistry? Registry { get; set; }

    /// <summary>Gets the last intent per provider URL (full form): registered or not.</summary>
    public Dictionary<string, (ServiceUrl Url, bool Registered)> Intents { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets the current subscriptions, by service index.</summary>
    public Dictionary<int, SimListener> Subscriptions { get; } = [];

    /// <summary>Gets the provider URLs and subscriptions this incarnation ever touched: the most retries it can owe.</summary>
    public HashSet<string> Touched { get; } = new(StringComparer.Ordinal);

    public DateTimeOffset? PartitionedUntil { get; set; }

    public bool Stopped { get; set; }

    public IEnumerable<ServiceUrl> Registered => Intents.Values.Where(i => i.Registered).Select(i => i.Url);

    public override string ToString() => $"client {Id}.{Incarnation}";
}
