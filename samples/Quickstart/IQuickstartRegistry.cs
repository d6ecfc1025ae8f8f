using RegistryKit.Transport;

namespace RegistryKit.Samples.Quickstart;

/// <summary>The registry the story runs against, and how it plays the outage.</summary>
internal interface IQuickstartRegistry : IAsyncDisposable
{
    /// <summary>Gets what the story's clients connect to.</summary>
    ServiceUrl Address { get; }

    /// <summary>Gets the transports a client process is made with.</summary>
    IReadOnlyList<KeyValuePair<string, IRegistryTransportFactory>> Transports { get; }

    /// <summary>Gets how long the outage lasts: long enough for the registry to lose the providers.</summary>
    TimeSpan OutageFor(QuickstartTimings timings);

    /// <summary>Starts the outage, which ends by itself after <paramref name="outage"/>; returns a line saying what happened.</summary>
    string BeginOutage(TimeSpan outage);

    /// <summary>Counts the provider registrations the registry holds now, asking it directly.</summary>
    ValueTask<int> CountProvidersAsync(CancellationToken cancellationToken);
}
