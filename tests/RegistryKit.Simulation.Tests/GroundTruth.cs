using RegistryKit.InMemory;

namespace RegistryKit.Simulation.Tests;

/// <summary>
/// What the registry held, change by change, per service: told by the server itself under its lock after every
/// change, so no state is skipped. (A watch would do for a client, but a watch may skip states it was too slow for,
/// and a listener that saw one of those would look as if it had been told a state the registry never held.)
/// </summary>
internal sealed class GroundTruth
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<string[]>> _history = new(StringComparer.Ordinal);

    public GroundTruth(InMemoryRegistryServer server) => server.ChangedLocked = OnChanged;

    /// <summary>The distinct sets of providers of <paramref name="service"/> the registry went through, in order.</summary>
    public IReadOnlyList<string[]> HistoryOf(string service)
    {
        lock (_lock)
        {
            return _history.TryGetValue(service, out List<string[]>? sets) ? [.. sets] : [[]];
        }
    }

    private void OnChanged(IReadOnlyList<string> values)
    {
        var byService = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string value in values)
        {
            ServiceUrl url = ServiceUrl.Parse(value);
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
}
