using RegistryKit.InMemory;
using RegistryKit.Transport;

namespace RegistryKit.Simulation.Tests;

/// <summary>
/// What the registry held, change by change, per service: a watch of every key straight on the server, past every
/// fault. A listener's notifications are checked against this history.
/// </summary>
internal sealed class GroundTruth(InMemoryRegistryServer server) : ITransportWatcher
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<string[]>> _history = new(StringComparer.Ordinal);
    private readonly IRegistryTransport _transport = new InMemoryRegistryTransportFactory(server).CreateTransport(ServiceUrl.Parse("memory:///sim"));
    private IAsyncDisposable? _watch;
    private bool _lost = true;

    /// <summary>(Re)opens the watch after a registry restart broke it.</summary>
    public async Task EnsureWatchingAsync()
    {
        lock (_lock)
        {
            if (!_lost)
            {
                return;
            }

            _lost = false;
        }

        _watch = await _transport.WatchAsync(ServiceUrl.Parse("consumer://0.0.0.0/*"), this, CancellationToken.None);
    }

    /// <summary>The distinct sets of providers of <paramref name="service"/> the registry went through, in order.</summary>
    public IReadOnlyList<string[]> HistoryOf(string service)
    {
        lock (_lock)
        {
            return _history.TryGetValue(service, out List<string[]>? sets) ? [.. sets] : [[]];
        }
    }

    public void OnSnapshot(TransportSnapshot snapshot)
    {
        var byService = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string entry in snapshot.Entries)
        {
            ServiceUrl url = ServiceUrl.Parse(entry);
            if (url.Category != "providers")
            {
                continue;
            }

            if (!byService.TryGetValue(url.ServiceInterface, out List<string>? list))
            {
                byService[url.ServiceInterface] = list = [];
            }

            list.Add(url.ToFullString());
        }

        lock (_lock)
        {
            foreach (string service in _history.Keys.Union(byService.Keys).ToList())
            {
                string[] now = byService.TryGetValue(service, out List<string>? list) ? [.. list.Order(StringComparer.Ordinal)] : [];
                if (!_history.TryGetValue(service, out List<string[]>? sets))
                {
                    _history[service] = sets = [[]]; // before its first provider, the service had none
                }

                if (!sets[^1].SequenceEqual(now))
                {
                    sets.Add(now);
                }
            }
        }
    }

    public void OnLost(Exception reason)
    {
        lock (_lock)
        {
            _lost = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_watch is not null)
        {
            await _watch.DisposeAsync();
        }

        await _transport.DisposeAsync();
    }
}
